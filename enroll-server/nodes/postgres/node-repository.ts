import type { NodeStatus, PublicJwk } from '../../../protocol/api.js';
import type { ProviderAttribute } from '../../../protocol/attributes.js';
import type { Check, HardwareFacts } from '../../../protocol/hardware.js';
import type { Sql } from '../../core/postgres/engine.js';
import type { EnrollmentFields, NodeListFilter, NodeRecord, NodeRepository } from '../node-repository.js';

type NodeRow = {
  id: string;
  owner_id: string;
  enrolled_with_key: string | null;
  status: NodeStatus;
  status_reason: string | null;
  public_key: string;
  public_key_thumbprint: string;
  fingerprint: string;
  hardware: string;
  preflight: string;
  attributes: string;
  labels: string;
  agent_version: string;
  created_at: number;
  updated_at: number;
  enrolled_at: number;
  approved_at: number | null;
  approved_by: string | null;
  last_seen_at: number | null;
};

// The columns hold JSON this server wrote itself after validating it, so parsing restores the type.
const json = <T>(text: string): T => JSON.parse(text) as T;

const toNode = (r: NodeRow): NodeRecord => ({
  id: r.id,
  ownerId: r.owner_id,
  enrolledWithKey: r.enrolled_with_key,
  status: r.status,
  statusReason: r.status_reason,
  publicKey: json<PublicJwk>(r.public_key),
  publicKeyThumbprint: r.public_key_thumbprint,
  fingerprint: r.fingerprint,
  hardware: json<HardwareFacts>(r.hardware),
  preflight: json<Check[]>(r.preflight),
  attributes: json<ProviderAttribute[]>(r.attributes),
  labels: json<Record<string, string>>(r.labels),
  agentVersion: r.agent_version,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  enrolledAt: r.enrolled_at,
  approvedAt: r.approved_at,
  approvedBy: r.approved_by,
  lastSeenAt: r.last_seen_at,
});

/** $1 id, then the enrollment fields $2–$11, $12 the time. */
const enrollmentValues = (id: string, f: EnrollmentFields, now: number) => [
  id,
  f.enrolledWithKey,
  f.status,
  f.statusReason,
  JSON.stringify(f.publicKey),
  f.publicKeyThumbprint,
  JSON.stringify(f.hardware),
  JSON.stringify(f.preflight),
  JSON.stringify(f.attributes),
  JSON.stringify(f.labels),
  f.agentVersion,
  now,
];

async function list(sql: Sql, filter: NodeListFilter): Promise<{ nodes: NodeRecord[]; total: number }> {
  const where: string[] = [];
  const values: unknown[] = [];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  if (filter.ownerId) where.push(`n.owner_id = ${param(filter.ownerId)}`);
  if (filter.status) where.push(`n.status = ${param(filter.status)}`);
  if (filter.agentVersion) where.push(`n.agent_version = ${param(filter.agentVersion)}`);
  if (filter.q) {
    // ILIKE in the "C" collation folds ASCII only, as SQLite's LIKE does.
    const q = param(`%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    where.push(
      `(n.id ILIKE ${q} ESCAPE '\\' OR o.email ILIKE ${q} ESCAPE '\\' OR o.name ILIKE ${q} ESCAPE '\\' OR n.attributes ILIKE ${q} ESCAPE '\\')`,
    );
  }
  if (filter.ids) {
    if (filter.ids.length === 0) return { nodes: [], total: 0 };
    where.push(`n.id = ANY(${param([...filter.ids])}::text[])`);
  }
  if (filter.excludeIds?.length) where.push(`NOT (n.id = ANY(${param([...filter.excludeIds])}::text[]))`);
  const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
  const from = `FROM nodes n JOIN owners o ON o.id = n.owner_id ${clause}`;
  const filterValues = [...values];
  const rows = await sql.rows<NodeRow>(
    `SELECT n.* ${from} ORDER BY n.created_at DESC, n.id LIMIT ${param(filter.limit)} OFFSET ${param(filter.offset)}`,
    values,
  );
  const total = await sql.row<{ n: number }>(`SELECT COUNT(*) AS n ${from}`, filterValues);
  return { nodes: rows.map(toNode), total: total?.n ?? 0 };
}

export function postgresNodeRepository(sql: Sql): NodeRepository {
  return {
    // One statement each, so that the node and its first history row are written together.
    create: async (id, ownerId, fingerprint, fields, now) => {
      await sql.run(
        `WITH node AS (
           INSERT INTO nodes (id, enrolled_with_key, status, status_reason, public_key, public_key_thumbprint,
             hardware, preflight, attributes, labels, agent_version, created_at, updated_at, enrolled_at,
             owner_id, fingerprint)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $12, $13, $14) RETURNING id)
         INSERT INTO node_hardware_history (node_id, at, hardware) SELECT id, $12, $7 FROM node`,
        [...enrollmentValues(id, fields, now), ownerId, fingerprint],
      );
    },
    reenroll: async (id, fields, now) => {
      await sql.run(
        `WITH node AS (
           UPDATE nodes SET enrolled_with_key = $2, status = $3, status_reason = $4, public_key = $5,
             public_key_thumbprint = $6, hardware = $7, preflight = $8, attributes = $9, labels = $10,
             agent_version = $11, updated_at = $12, enrolled_at = $12
           WHERE id = $1 RETURNING id)
         INSERT INTO node_hardware_history (node_id, at, hardware) SELECT id, $12, $7 FROM node`,
        enrollmentValues(id, fields, now),
      );
    },
    updateHardware: async (id, fields, now, history) => {
      // One statement: the facts, and the history row `history` names (hardware-history.ts):
      // 'append' a row, 'amend-latest' rewrite the newest (or append the first), 'none' nothing.
      await sql.run(
        `WITH latest AS (
           SELECT id FROM node_hardware_history WHERE node_id = $1 ORDER BY at DESC, id DESC LIMIT 1),
         updated AS (
           UPDATE nodes SET hardware = $2, attributes = $3, labels = $4, updated_at = $5 WHERE id = $1 RETURNING id),
         amended AS (
           UPDATE node_hardware_history SET hardware = $2
           WHERE $6::text = 'amend-latest' AND id = (SELECT id FROM latest) RETURNING id)
         INSERT INTO node_hardware_history (node_id, at, hardware)
         SELECT id, $5, $2 FROM updated
         WHERE $6::text = 'append' OR ($6::text = 'amend-latest' AND NOT EXISTS (SELECT 1 FROM latest))`,
        [
          id,
          JSON.stringify(fields.hardware),
          JSON.stringify(fields.attributes),
          JSON.stringify(fields.labels),
          now,
          history,
        ],
      );
    },
    latestHardware: async (id) => {
      const row = await sql.row<{ at: number; hardware: string }>(
        'SELECT at, hardware FROM node_hardware_history WHERE node_id = $1 ORDER BY at DESC, id DESC LIMIT 1',
        [id],
      );
      return row && { at: row.at, hardware: json<HardwareFacts>(row.hardware) };
    },
    get: async (id) => {
      const row = await sql.row<NodeRow>('SELECT * FROM nodes WHERE id = $1', [id]);
      return row && toNode(row);
    },
    findByThumbprint: async (thumbprint) => {
      const row = await sql.row<NodeRow>('SELECT * FROM nodes WHERE public_key_thumbprint = $1', [
        thumbprint,
      ]);
      return row && toNode(row);
    },
    findByFingerprint: async (fingerprint) =>
      (
        await sql.rows<NodeRow>('SELECT * FROM nodes WHERE fingerprint = $1 ORDER BY created_at DESC, id', [
          fingerprint,
        ])
      ).map(toNode),
    transition: async (id, from, to, reason, actor, now) =>
      (await sql.run(
        `UPDATE nodes SET status = $3, status_reason = $4, updated_at = $5,
           approved_at = CASE WHEN $3 = 'approved' THEN $5 ELSE approved_at END,
           approved_by = CASE WHEN $3 = 'approved' THEN $6 ELSE approved_by END
         WHERE id = $1 AND status = $2`,
        [id, from, to, reason, now, actor],
      )) === 1,
    list: (filter) => list(sql, filter),
    countByStatus: async () =>
      Object.fromEntries(
        (
          await sql.rows<{ status: string; n: number }>(
            'SELECT status, COUNT(*) AS n FROM nodes GROUP BY status',
          )
        ).map((r) => [r.status, r.n]),
      ),
    setAgentVersion: async (id, agentVersion, now) =>
      (await sql.run(
        'UPDATE nodes SET agent_version = $2, updated_at = $3 WHERE id = $1 AND agent_version <> $2',
        [id, agentVersion, now],
      )) === 1,
  };
}
