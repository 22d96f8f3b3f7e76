/**
 * `npm run admin -- migrate-db`: a SQLite database with real activity (enrollments through the
 * API, a node's session and usage, a locked statement, adjustments, sign-in sessions) is copied
 * into PostgreSQL and checked; a server started on the copy answers as the SQLite one did.
 */
import { afterEach, describe, expect, it } from 'vitest';
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
    return { server, clock, answers, nodeId, periodId: period.body.id, hash: locked.body.hash };
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
    expect(result.out).toContain('1 locked payout period(s) recomputed on PostgreSQL: every hash matches.');

    const onPostgres: TestServer = await startTestServer({ now: clock.now, databaseUrl: db.url });
    cleanups.push(() => onPostgres.close());
    const reviewer = { token: await onPostgres.tokenFor('reviewer') };
    expect((await onPostgres.api('GET', '/v1/nodes')).body).toEqual(answers.nodes);
    expect((await onPostgres.api('GET', `/v1/nodes/${nodeId}`)).body).toEqual(answers.node);
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
