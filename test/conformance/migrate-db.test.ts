/**
 * `npm run admin -- migrate-db`: a SQLite database with real activity (enrollments through the
 * API, a node's session and usage, a locked statement, adjustments, sign-in sessions) is copied
 * into PostgreSQL and checked; a server started on the copy answers as the SQLite one did.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import { createSqliteStore } from '../../enroll-server/sqlite-store.js';
import { runAdmin } from '../../scripts/admin/cli.js';
import {
  connectControl,
  newSimIdentity,
  signNodeToken,
  signPayload,
  simHello,
} from '../../scripts/sim/sim-agent.js';
import { testDatabase } from '../helpers/engines.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, manualClock, startTestServer } from '../helpers/server.js';

const HOUR = 3_600_000;
const P0 = Date.parse('2026-11-09T00:00:00Z');

async function admin(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(argv, {}, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('migrate-db: SQLite to PostgreSQL', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A server that did some real work, stopped; its database file. */
  async function usedSqliteServer() {
    const clock = manualClock(P0 - HOUR);
    const server = await startTestServer({ now: clock.now });
    cleanups.push(() => server.close());
    const reviewer = { token: await server.tokenFor('reviewer') };
    await server.api('POST', '/v1/rate-cards', {
      ...reviewer,
      body: {
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        },
      },
    });
    const period = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
      ...reviewer,
      body: { start: '2026-11-09T00:00:00Z', end: '2026-11-09T06:00:00Z' },
    });
    const owner = await server.createOwner('ana@example.com', 'Ana Lima');
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const { nodeId } = (
      await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await server.createKey(owner.id, { maxUses: 3 })).key, machine),
      })
    ).body;
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: { note: 'looks fine' } });
    clock.set(P0);
    const skew = Math.round((P0 - Date.now()) / 1000);
    const { conn } = await connectControl(
      server.url,
      await signNodeToken(identity, nodeId, { skewSeconds: skew }),
    );
    if (!conn) throw new Error('refused');
    conn.send(simHello());
    await conn.next('welcome');
    clock.set(P0 + HOUR + 5 * 60_000);
    const report = {
      nodeId,
      seq: 1,
      from: new Date(P0 + HOUR).toISOString(),
      to: new Date(P0 + HOUR + 300_000).toISOString(),
      workloads: [{ leaseId: 'akash1abc/42/1/1', gpus: 1, seconds: 300 }],
    };
    conn.send({ type: 'usage', seq: 1, report: await signPayload(identity, report) });
    await conn.next('ack');
    await server.api('POST', '/v1/adjustments', {
      ...reviewer,
      body: { nodeId, amountUusd: '123456789012345678', reason: 'goodwill' },
    });
    clock.set(P0 + 5 * HOUR);
    await conn.close(true);
    clock.set(P0 + 7 * HOUR);
    const locked = await server.api<{ hash: string }>(
      'POST',
      `/v1/payout-periods/${period.body.id}/lock`,
      reviewer,
    );
    expect(locked.status).toBe(200);
    await server.api('POST', '/v1/session', { token: null, body: { token: server.adminToken } });
    const answers = {
      nodes: (await server.api('GET', '/v1/nodes')).body,
      node: (await server.api('GET', `/v1/nodes/${nodeId}`)).body,
      statement: (await server.api('GET', `/v1/payout-periods/${period.body.id}/statement`, reviewer)).body,
      keys: (await server.api('GET', '/v1/keys')).body,
      audit: (await server.api('GET', '/v1/audit')).body,
    };
    await server.close({ keepFiles: true });
    await addNewerRows(server.dbPath, nodeId, owner.id);
    return { server, clock, answers, nodeId, periodId: period.body.id, hash: locked.body.hash };
  }

  /**
   * Rows in the tables of issues 11, 14 and 17 that the run above leaves empty, written through
   * the SQLite repositories: booleans (a truncated recording, an unusable password), a NOCASE key
   * in both letter cases, an artifact, a webhook with a delivery and an attempt.
   */
  async function addNewerRows(dbPath: string, nodeId: string, ownerId: string) {
    const store = createSqliteStore(openDatabase(dbPath), { closeDb: true });
    const { repos } = store;
    const at = P0 + 8 * HOUR;
    await repos.flags.add(nodeId, 'join-failed', 'k3s failed', { step: 'k3s' }, at);
    await repos.flags.add(nodeId, 'join-failed', 'k3s failed again', { step: 'k3s' }, at + 1);
    await repos.shellSessions.open({
      id: 'sh_1',
      nodeId,
      openedBy: 'tok',
      openedAt: at,
      recordingPath: '/r/1',
    });
    await repos.shellSessions.close('sh_1', {
      at: at + 1,
      reason: 'done',
      bytesOut: 10,
      recordedBytes: 8,
      recordingTruncated: true,
    });
    await repos.artifacts.insert({
      name: 'k3s',
      version: 'v1.30.2+k3s1',
      sha256: 'a'.repeat(64),
      size: 1024,
      signature: 'jws',
      uploadedBy: null,
      createdAt: at,
    });
    await repos.preferences.put(ownerId, { choices: { offline: false }, offlineMinutes: 30 }, at);
    await repos.preferences.suppress('Bob@Example.com', 'ops', at);
    await repos.preferences.suppress('alice@example.com', 'ops', at);
    await repos.identities.link({
      provider: 'github',
      subject: '42',
      ownerId,
      email: null,
      createdAt: at,
      lastUsedAt: at,
    });
    await repos.webhooks.create({
      id: 'wh_1',
      url: 'https://hooks.example.com/a',
      events: ['node.approved'],
      secretSealed: 'sealed',
      ownerId: null,
      createdBy: 'tok',
      createdAt: at,
    });
    await repos.webhooks.addDelivery({
      id: 'whd_1',
      webhookId: 'wh_1',
      eventId: 'evt_x',
      event: 'node.approved',
      body: '{}',
      createdAt: at,
    });
    const [delivery] = await repos.webhooks.claimDue(at, 60_000, 'w', 1);
    if (!delivery) throw new Error('no delivery to claim');
    await repos.webhooks.recordAttempt(
      { deliveryId: 'whd_1', attempt: 1, at, durationMs: 5, status: 200, error: null },
      'w',
      { status: 'delivered', nextAttemptAt: at },
    );
    await repos.audits.create({
      id: 'aud_1',
      nodeId,
      trigger: 'join',
      priority: 1,
      requestedAt: at,
      requestedBy: null,
      notBefore: at,
    });
    await repos.audits.start('aud_1', at, at + 600_000, 5);
    await repos.audits.finish('aud_1', { status: 'passed', finishedAt: at + 1, checks: [], skipped: [] });
    await repos.audits.startInterval({
      nodeId,
      state: 'passing',
      startedAt: at + 1,
      verifiedUntil: at + HOUR,
      auditId: 'aud_1',
    });
    await store.close();
  }

  it('copies every table, checks counts, checksums and locked statements; the server on the copy answers alike', async () => {
    const { server, clock, answers, nodeId, periodId, hash } = await usedSqliteServer();
    const db = await testDatabase({ empty: true });
    cleanups.push(() => db.drop());
    const result = await admin('migrate-db', '--from', server.dbPath, '--to', db.url);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/nodes\s+1 rows\s+sha256 [0-9a-f]{16}…/);
    expect(result.out).toMatch(/usage_reports\s+1 rows/);
    for (const [table, rows] of [
      ['node_flags', 1],
      ['shell_sessions', 1],
      ['artifacts', 1],
      ['notification_preferences', 1],
      ['mail_suppressions', 2],
      ['owner_identities', 1],
      ['webhooks', 1],
      ['webhook_deliveries', 1],
      ['webhook_attempts', 1],
    ] as const)
      expect(result.out).toMatch(new RegExp(`${table}\\s+${rows} rows`));
    // The enrollment and the approval wrote domain events; the node's connection used a token.
    expect(result.out).toMatch(/domain_events\s+[1-9]\d* rows/);
    expect(result.out).toMatch(/used_node_tokens\s+1 rows/);
    // The approval started the node's audit state; the audit above added to it.
    for (const table of ['audits', 'node_audit_state', 'audit_state_intervals'])
      expect(result.out).toMatch(new RegExp(`${table}\\s+[1-9]\\d* rows`));
    expect(result.out).toContain('1 locked payout period(s) recomputed on PostgreSQL: every hash matches.');

    const onPostgres: TestServer = await startTestServer({ now: clock.now, databaseUrl: db.url });
    cleanups.push(() => onPostgres.close());
    const reviewer = { token: await onPostgres.tokenFor('reviewer') };
    expect((await onPostgres.api('GET', '/v1/nodes')).body).toEqual(answers.nodes);
    // The node answers alike, with the flag written after (its repeat count and last sighting copied).
    const node = (await onPostgres.api<{ flags: unknown[] }>('GET', `/v1/nodes/${nodeId}`)).body;
    expect({ ...node, flags: [], flagsTotal: 0 }).toEqual(answers.node);
    expect(node.flags).toEqual([
      {
        kind: 'join-failed',
        message: 'k3s failed again',
        count: 2,
        createdAt: new Date(P0 + 8 * HOUR).toISOString(),
        lastSeenAt: new Date(P0 + 8 * HOUR + 1).toISOString(),
        resolvedAt: null,
      },
    ]);
    expect((await onPostgres.api('GET', '/v1/keys')).body).toEqual(answers.keys);
    const statement = await onPostgres.api<{ hash: string }>(
      'GET',
      `/v1/payout-periods/${periodId}/statement`,
      reviewer,
    );
    expect(statement.body).toEqual(answers.statement);
    expect(statement.body.hash).toBe(hash);
    const verify = await onPostgres.api<{ matches: boolean }>(
      'POST',
      `/v1/payout-periods/${periodId}/verify`,
      reviewer,
    );
    expect(verify.body.matches).toBe(true);
    // New rows continue after the copied ids (sequences advanced).
    const card = await onPostgres.api<{ version: number }>('POST', '/v1/rate-cards', {
      ...reviewer,
      body: {
        effectiveFrom: '2026-12-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '210000', workloadUusdPerGpuHour: '500000' },
        },
      },
    });
    expect(card.body).toMatchObject({ version: 2 });
    const audit = (await onPostgres.api<{ entries: { id: number }[] }>('GET', '/v1/audit')).body.entries;
    const before = (answers.audit as { entries: { id: number }[] }).entries;
    expect(audit[0]!.id).toBeGreaterThan(before[0]!.id);
  });

  it('refuses a database that already holds data, a running server, and a missing file, saying what to do', async () => {
    const { server } = await usedSqliteServer();
    const db = await testDatabase({ empty: true });
    cleanups.push(() => db.drop());
    expect((await admin('migrate-db', '--from', server.dbPath, '--to', db.url)).code).toBe(0);
    const again = await admin('migrate-db', '--from', server.dbPath, '--to', db.url);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/already holds data \(.*owners.*\)\. Migrate into an empty database\./);

    const running = await startTestServer();
    cleanups.push(() => running.close());
    const other = await testDatabase({ empty: true });
    cleanups.push(() => other.drop());
    const live = await admin('migrate-db', '--from', running.dbPath, '--to', other.url);
    expect(live.code).toBe(1);
    expect(live.err).toMatch(/A server is running on .* Stop it, then run migrate-db again\./);

    const missing = await admin('migrate-db', '--from', '/nonexistent/homenode.db', '--to', other.url);
    expect(missing.err).toContain('The SQLite database /nonexistent/homenode.db does not exist.');
    expect((await admin('migrate-db', '--from', server.dbPath)).code).toBe(2);
  });
});
