import type { NodeStatus, PublicJwk } from '../../../protocol/api.js';
import type { ProviderAttribute } from '../../../protocol/attributes.js';
import type { Check, HardwareFacts } from '../../../protocol/hardware.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { EnrollmentFields, NodeRecord, NodeRepository } from '../node-repository.js';

interface NodeRow {
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
}

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

export function sqliteNodeRepository(db: Db): (run: Run) => NodeRepository {
  const insert = db.prepare(
    `INSERT INTO nodes (id, owner_id, enrolled_with_key, status, status_reason, public_key, public_key_thumbprint,
       fingerprint, hardware, preflight, attributes, labels, agent_version, created_at, updated_at, enrolled_at)
     VALUES (@id, @owner_id, @enrolled_with_key, @status, @status_reason, @public_key, @public_key_thumbprint,
       @fingerprint, @hardware, @preflight, @attributes, @labels, @agent_version, @now, @now, @now)`,
  );
  const reenroll = db.prepare(
    `UPDATE nodes SET enrolled_with_key = @enrolled_with_key, status = @status, status_reason = @status_reason,
       public_key = @public_key, public_key_thumbprint = @public_key_thumbprint, hardware = @hardware,
       preflight = @preflight, attributes = @attributes, labels = @labels, agent_version = @agent_version,
       updated_at = @now, enrolled_at = @now
     WHERE id = @id`,
  );
  const history = db.prepare('INSERT INTO node_hardware_history (node_id, at, hardware) VALUES (?, ?, ?)');
  const latestHistory = db.prepare<[string], { id: number; at: number; hardware: string }>(
    'SELECT id, at, hardware FROM node_hardware_history WHERE node_id = ? ORDER BY at DESC, id DESC LIMIT 1',
  );
  const amendHistory = db.prepare('UPDATE node_hardware_history SET hardware = ? WHERE id = ?');
  const byId = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE id = ?');
  const byThumbprint = db.prepare<[string], NodeRow>('SELECT * FROM nodes WHERE public_key_thumbprint = ?');
  const byFingerprint = db.prepare<[string], NodeRow>(
    'SELECT * FROM nodes WHERE fingerprint = ? ORDER BY created_at DESC',
  );
  const setHardware = db.prepare(
    `UPDATE nodes SET hardware = @hardware, attributes = @attributes, labels = @labels, updated_at = @now WHERE id = @id`,
  );
  const setStatus = db.prepare(
    `UPDATE nodes SET status = @status, status_reason = @reason, updated_at = @now,
       approved_at = CASE WHEN @status = 'approved' THEN @now ELSE approved_at END,
       approved_by = CASE WHEN @status = 'approved' THEN @actor ELSE approved_by END
     WHERE id = @id AND status = @from`,
  );

  const setAgentVersion = db.prepare(
    'UPDATE nodes SET agent_version = ?, updated_at = ? WHERE id = ? AND agent_version <> ?',
  );
  const countByStatus = db.prepare<[], { status: string; n: number }>(
    'SELECT status, COUNT(*) AS n FROM nodes GROUP BY status',
  );

  const enrollmentParams = (id: string, f: EnrollmentFields, now: number) => ({
    id,
    enrolled_with_key: f.enrolledWithKey,
    status: f.status,
    status_reason: f.statusReason,
    public_key: JSON.stringify(f.publicKey),
    public_key_thumbprint: f.publicKeyThumbprint,
    hardware: JSON.stringify(f.hardware),
    preflight: JSON.stringify(f.preflight),
    attributes: JSON.stringify(f.attributes),
    labels: JSON.stringify(f.labels),
    agent_version: f.agentVersion,
    now,
  });

  function list(filter: Parameters<NodeRepository['list']>[0]): { nodes: NodeRecord[]; total: number } {
    const where: string[] = [];
    const params: Record<string, string | number> = { limit: filter.limit, offset: filter.offset };
    if (filter.ownerId) {
      where.push('n.owner_id = @ownerId');
      params.ownerId = filter.ownerId;
    }
    if (filter.status) {
      where.push('n.status = @status');
      params.status = filter.status;
    }
    if (filter.agentVersion) {
      where.push('n.agent_version = @agentVersion');
      params.agentVersion = filter.agentVersion;
    }
    if (filter.q) {
      where.push(
        "(n.id LIKE @q ESCAPE '\\' OR o.email LIKE @q ESCAPE '\\' OR o.name LIKE @q ESCAPE '\\' OR n.attributes LIKE @q ESCAPE '\\')",
      );
      params.q = `%${filter.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    }
    if (filter.ids) {
      if (filter.ids.length === 0) return { nodes: [], total: 0 };
      where.push(`n.id IN (SELECT value FROM json_each(@ids))`);
      params.ids = JSON.stringify(filter.ids);
    }
    if (filter.excludeIds?.length) {
      where.push(`n.id NOT IN (SELECT value FROM json_each(@excludeIds))`);
      params.excludeIds = JSON.stringify(filter.excludeIds);
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const from = `FROM nodes n JOIN owners o ON o.id = n.owner_id ${clause}`;
    const rows = db
      .prepare<Record<string, string | number>, NodeRow>(
        `SELECT n.* ${from} ORDER BY n.created_at DESC, n.id LIMIT @limit OFFSET @offset`,
      )
      .all(params);
    const total = db
      .prepare<Record<string, string | number>, { n: number }>(`SELECT COUNT(*) AS n ${from}`)
      .get(params);
    return { nodes: rows.map(toNode), total: total?.n ?? 0 };
  }

  return (run) => ({
    create(id, ownerId, fingerprint, fields, now) {
      return run(() => {
        const params = enrollmentParams(id, fields, now);
        insert.run({ ...params, owner_id: ownerId, fingerprint });
        history.run(id, now, params.hardware);
      });
    },
    reenroll(id, fields, now) {
      return run(() => {
        const params = enrollmentParams(id, fields, now);
        reenroll.run(params);
        history.run(id, now, params.hardware);
      });
    },
    updateHardware(id, fields, now, write) {
      return run(() => {
        const hardware = JSON.stringify(fields.hardware);
        const latest = latestHistory.get(id);
        if (write === 'append' || (write === 'amend-latest' && !latest)) history.run(id, now, hardware);
        else if (write === 'amend-latest' && latest) amendHistory.run(hardware, latest.id);
        setHardware.run({
          id,
          hardware,
          attributes: JSON.stringify(fields.attributes),
          labels: JSON.stringify(fields.labels),
          now,
        });
      });
    },
    latestHardware(id) {
      return run(() => {
        const row = latestHistory.get(id);
        return row && { at: row.at, hardware: json<HardwareFacts>(row.hardware) };
      });
    },
    get(id) {
      return run(() => {
        const row = byId.get(id);
        return row && toNode(row);
      });
    },
    findByThumbprint(thumbprint) {
      return run(() => {
        const row = byThumbprint.get(thumbprint);
        return row && toNode(row);
      });
    },
    findByFingerprint(fingerprint) {
      return run(() => byFingerprint.all(fingerprint).map(toNode));
    },
    transition(id, from, to, reason, actor, now) {
      return run(() => setStatus.run({ id, from, status: to, reason, actor, now }).changes === 1);
    },
    list(filter) {
      return run(() => list(filter));
    },
    countByStatus() {
      return run(() => Object.fromEntries(countByStatus.all().map((r) => [r.status, r.n])));
    },
    setAgentVersion(id, agentVersion, now) {
      return run(() => setAgentVersion.run(agentVersion, now, id, agentVersion).changes === 1);
    },
  });
}
