import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type {
  CommandRepository,
  CommandRun,
  ShellSessionRecord,
  ShellSessionRepository,
} from '../command-repository.js';

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

export function sqliteCommandRepository(db: Db): (run: Run) => CommandRepository {
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
  return (run) => ({
    create(c) {
      return run(() => {
        insert.run(c.id, c.nodeId, c.name, JSON.stringify(c.args), c.requestedBy, c.requestedAt);
      });
    },
    finish(id, at, ok, output, error) {
      return run(() => {
        finish.run(at, ok ? 1 : 0, output, error, id);
      });
    },
    get(id) {
      return run(() => {
        const row = get.get(id);
        return row && toRun(row);
      });
    },
    forNode(nodeId, limit) {
      return run(() => forNode.all(nodeId, limit).map(toRun));
    },
  });
}

interface ShellRow {
  id: string;
  node_id: string;
  opened_by: string;
  opened_at: number;
  closed_at: number | null;
  close_reason: string | null;
  recording_path: string;
  bytes_out: number;
}

const toShell = (r: ShellRow): ShellSessionRecord => ({
  id: r.id,
  nodeId: r.node_id,
  openedBy: r.opened_by,
  openedAt: r.opened_at,
  closedAt: r.closed_at,
  closeReason: r.close_reason,
  recordingPath: r.recording_path,
  bytesOut: r.bytes_out,
});

export function sqliteShellSessionRepository(db: Db): (run: Run) => ShellSessionRepository {
  const insert = db.prepare(
    'INSERT INTO shell_sessions (id, node_id, opened_by, opened_at, recording_path) VALUES (?, ?, ?, ?, ?)',
  );
  const close = db.prepare(
    'UPDATE shell_sessions SET closed_at = ?, close_reason = ?, bytes_out = ? WHERE id = ? AND closed_at IS NULL',
  );
  const forNode = db.prepare<[string], ShellRow>(
    'SELECT * FROM shell_sessions WHERE node_id = ? ORDER BY opened_at DESC',
  );
  return (run) => ({
    open(s) {
      return run(() => {
        insert.run(s.id, s.nodeId, s.openedBy, s.openedAt, s.recordingPath);
      });
    },
    close(id, at, reason, bytesOut) {
      return run(() => {
        close.run(at, reason, bytesOut, id);
      });
    },
    forNode(nodeId) {
      return run(() => forNode.all(nodeId).map(toShell));
    },
  });
}
