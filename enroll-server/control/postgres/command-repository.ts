import type { Sql } from '../../core/postgres/engine.js';
import type {
  CommandRepository,
  CommandRun,
  ShellSessionRecord,
  ShellSessionRepository,
} from '../command-repository.js';

type Row = {
  id: string;
  node_id: string;
  name: string;
  args: string;
  requested_by: string | null;
  requested_at: number;
  finished_at: number | null;
  ok: boolean | null;
  output: string | null;
  error: string | null;
};

const toRun = (r: Row): CommandRun => ({
  id: r.id,
  nodeId: r.node_id,
  name: r.name,
  args: JSON.parse(r.args) as Record<string, unknown>,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  finishedAt: r.finished_at,
  ok: r.ok,
  output: r.output,
  error: r.error,
});

export function postgresCommandRepository(sql: Sql): CommandRepository {
  return {
    create: async (c) => {
      await sql.run(
        'INSERT INTO node_commands (id, node_id, name, args, requested_by, requested_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [c.id, c.nodeId, c.name, JSON.stringify(c.args), c.requestedBy, c.requestedAt],
      );
    },
    finish: async (id, at, ok, output, error) => {
      await sql.run(
        'UPDATE node_commands SET finished_at = $1, ok = $2, output = $3, error = $4 WHERE id = $5 AND finished_at IS NULL',
        [at, ok, output, error, id],
      );
    },
    get: async (id) => {
      const row = await sql.row<Row>('SELECT * FROM node_commands WHERE id = $1', [id]);
      return row && toRun(row);
    },
    forNode: async (nodeId, limit) =>
      (
        await sql.rows<Row>(
          'SELECT * FROM node_commands WHERE node_id = $1 ORDER BY requested_at DESC, id DESC LIMIT $2',
          [nodeId, limit],
        )
      ).map(toRun),
  };
}

type ShellRow = {
  id: string;
  node_id: string;
  opened_by: string;
  opened_at: number;
  closed_at: number | null;
  close_reason: string | null;
  recording_path: string;
  bytes_out: number;
  recorded_bytes: number;
  recording_truncated: boolean;
};

const toShell = (r: ShellRow): ShellSessionRecord => ({
  id: r.id,
  nodeId: r.node_id,
  openedBy: r.opened_by,
  openedAt: r.opened_at,
  closedAt: r.closed_at,
  closeReason: r.close_reason,
  recordingPath: r.recording_path,
  bytesOut: r.bytes_out,
  recordedBytes: r.recorded_bytes,
  recordingTruncated: r.recording_truncated,
});

export function postgresShellSessionRepository(sql: Sql): ShellSessionRepository {
  return {
    open: async (s) => {
      await sql.run(
        'INSERT INTO shell_sessions (id, node_id, opened_by, opened_at, recording_path) VALUES ($1, $2, $3, $4, $5)',
        [s.id, s.nodeId, s.openedBy, s.openedAt, s.recordingPath],
      );
    },
    close: async (id, end) => {
      await sql.run(
        `UPDATE shell_sessions SET closed_at = $1, close_reason = $2, bytes_out = $3,
           recorded_bytes = $4, recording_truncated = $5
         WHERE id = $6 AND closed_at IS NULL`,
        [end.at, end.reason, end.bytesOut, end.recordedBytes, end.recordingTruncated, id],
      );
    },
    get: async (id) => {
      const row = await sql.row<ShellRow>('SELECT * FROM shell_sessions WHERE id = $1', [id]);
      return row && toShell(row);
    },
    forNode: async (nodeId, limit, offset) =>
      (
        await sql.rows<ShellRow>(
          'SELECT * FROM shell_sessions WHERE node_id = $1 ORDER BY opened_at DESC, id LIMIT $2 OFFSET $3',
          [nodeId, limit, offset],
        )
      ).map(toShell),
    recordedBytesSince: async (nodeId, since) =>
      (
        await sql.row<{ n: number | null }>(
          'SELECT SUM(recorded_bytes)::bigint AS n FROM shell_sessions WHERE node_id = $1 AND opened_at >= $2',
          [nodeId, since],
        )
      )?.n ?? 0,
  };
}
