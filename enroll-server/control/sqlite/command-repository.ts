import type { Db } from '../../core/sqlite/database.js';

export interface CommandRun {
  id: string;
  nodeId: string;
  name: string;
  args: Record<string, unknown>;
  requestedBy: string | null;
  requestedAt: number;
  finishedAt: number | null;
  ok: boolean | null;
  output: string | null;
  error: string | null;
}

interface Row {
  id: string;
  node_id: string;
  name: string;
  args: string;
  requested_by: string | null;
  requested_at: number;
  finished_at: number | null;
  ok: number | null;
  output: string | null;
  error: string | null;
}

const toRun = (r: Row): CommandRun => ({
  id: r.id,
  nodeId: r.node_id,
  name: r.name,
  args: JSON.parse(r.args) as Record<string, unknown>,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  finishedAt: r.finished_at,
  ok: r.ok === null ? null : r.ok === 1,
  output: r.output,
  error: r.error,
});

export function createCommandRepository(db: Db) {
  const insert = db.prepare(
    'INSERT INTO node_commands (id, node_id, name, args, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const finish = db.prepare(
    'UPDATE node_commands SET finished_at = ?, ok = ?, output = ?, error = ? WHERE id = ? AND finished_at IS NULL',
  );
  const get = db.prepare<[string], Row>('SELECT * FROM node_commands WHERE id = ?');
  const forNode = db.prepare<[string, number], Row>(
    'SELECT * FROM node_commands WHERE node_id = ? ORDER BY requested_at DESC LIMIT ?',
  );
  return {
    create(run: Pick<CommandRun, 'id' | 'nodeId' | 'name' | 'args' | 'requestedBy' | 'requestedAt'>): void {
      insert.run(run.id, run.nodeId, run.name, JSON.stringify(run.args), run.requestedBy, run.requestedAt);
    },
    finish(id: string, at: number, ok: boolean, output: string | null, error: string | null): void {
      finish.run(at, ok ? 1 : 0, output, error, id);
    },
    get(id: string): CommandRun | undefined {
      const row = get.get(id);
      return row && toRun(row);
    },
    forNode(nodeId: string, limit: number): CommandRun[] {
      return forNode.all(nodeId, limit).map(toRun);
    },
  };
}
export type CommandRepository = ReturnType<typeof createCommandRepository>;

export interface ShellSessionRecord {
  id: string;
  nodeId: string;
  openedBy: string;
  openedAt: number;
  closedAt: number | null;
  closeReason: string | null;
  recordingPath: string;
  bytesOut: number;
}

export function createShellSessionRepository(db: Db) {
  const insert = db.prepare(
    'INSERT INTO shell_sessions (id, node_id, opened_by, opened_at, recording_path) VALUES (?, ?, ?, ?, ?)',
  );
  const close = db.prepare(
    'UPDATE shell_sessions SET closed_at = ?, close_reason = ?, bytes_out = ? WHERE id = ? AND closed_at IS NULL',
  );
  const forNode = db.prepare<
    [string],
    {
      id: string;
      node_id: string;
      opened_by: string;
      opened_at: number;
      closed_at: number | null;
      close_reason: string | null;
      recording_path: string;
      bytes_out: number;
    }
  >('SELECT * FROM shell_sessions WHERE node_id = ? ORDER BY opened_at DESC');
  return {
    open(s: Pick<ShellSessionRecord, 'id' | 'nodeId' | 'openedBy' | 'openedAt' | 'recordingPath'>): void {
      insert.run(s.id, s.nodeId, s.openedBy, s.openedAt, s.recordingPath);
    },
    close(id: string, at: number, reason: string, bytesOut: number): void {
      close.run(at, reason, bytesOut, id);
    },
    forNode(nodeId: string): ShellSessionRecord[] {
      return forNode.all(nodeId).map((r) => ({
        id: r.id,
        nodeId: r.node_id,
        openedBy: r.opened_by,
        openedAt: r.opened_at,
        closedAt: r.closed_at,
        closeReason: r.close_reason,
        recordingPath: r.recording_path,
        bytesOut: r.bytes_out,
      }));
    },
  };
}
export type ShellSessionRepository = ReturnType<typeof createShellSessionRepository>;
