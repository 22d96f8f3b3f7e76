import { afterEach, describe, expect, it } from 'vitest';
import {
  type SimIdentity,
  connectControl,
  newSimIdentity,
  signNodeToken,
  signPayload,
  simHello,
  simMetrics,
} from '../../scripts/sim/sim-agent.js';
import { simulateAudit } from '../helpers/audits.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

type ErrorBody = { error: { code: string; message: string } };
type Line = {
  nodeId: string;
  ownerId: string;
  upMinutes: number;
  uptimeTier: string;
  availabilityUusd: string;
  workloadUusd: string;
  workloadGpuMinutes: number;
  adjustmentsUusd: string;
  totalUusd: string;
};
type Statement = {
  periodId: string;
  status: string;
  hash: string;
  rateCardVersion: number;
  lines: Line[];
  totals: { totalUusd: string; nodes: number };
};

const P0 = Date.parse('2026-11-09T00:00:00Z'); // a Monday, in the past
const HOUR = 3_600_000;

describe('payouts end to end (real server, simulated agents with real signatures)', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  it('earns uptime, computes, locks, verifies and exports a period; later changes never touch it', async () => {
    let serverNow = P0 - HOUR;
    const server = await startTestServer({ now: () => serverNow });
    servers.push(server);
    const reviewer = await server.tokenFor('reviewer');
    const asReviewer = { token: reviewer };
    const owner = await server.createOwner('hyper@example.com', '=HYPERLINK("x")');
    const other = await server.createOwner('other@example.com', 'Other');

    const card = await server.api<{ version: number }>('POST', '/v1/rate-cards', {
      ...asReviewer,
      body: {
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        },
        note: 'example',
      },
    });
    expect(card.status).toBe(201);
    const period = await server.api<{ id: string; status: string }>('POST', '/v1/payout-periods', {
      ...asReviewer,
      body: { start: '2026-11-09T00:00:00Z', end: '2026-11-10T00:00:00Z' },
    });
    expect(period.body.status).toBe('open');
    const periodId = period.body.id;
    expect(
      (
        await server.api<ErrorBody>('POST', '/v1/payout-periods', {
          ...asReviewer,
          body: { start: '2026-11-09T12:00:00Z', end: '2026-11-11T00:00:00Z' },
        })
      ).status,
    ).toBe(409);

    const enroll = async (ownerId: string) => {
      const identity = await newSimIdentity();
      const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
      const { nodeId } = (
        await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
          token: null,
          body: enrollBody((await server.createKey(ownerId)).key, machine),
        })
      ).body;
      await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
      return { nodeId, identity };
    };
    const connect = async (nodeId: string, identity: SimIdentity) => {
      const token = await signNodeToken(identity, nodeId, {
        skewSeconds: Math.round((serverNow - Date.now()) / 1000),
      });
      const { conn } = await connectControl(server.url, token);
      if (!conn) throw new Error('refused');
      conn.send(simHello());
      await conn.next('welcome');
      return conn;
    };
    const a = await enroll(owner.id);
    const b = await enroll(other.id);

    serverNow = P0;
    const connA = await connect(a.nodeId, a.identity);
    const connB = await connect(b.nodeId, b.identity);
    // Both pass their audit at once: availability is verified all day (audits-payouts.test.ts covers failures).
    expect((await simulateAudit(server, connA, a.identity, a.nodeId)).status).toBe('passed');
    expect((await simulateAudit(server, connB, b.identity, b.nodeId)).status).toBe('passed');
    // An hour in, node A reports five minutes of one GPU under a lease.
    serverNow = P0 + HOUR + 5 * 60_000;
    const report = {
      nodeId: a.nodeId,
      seq: 1,
      from: new Date(P0 + HOUR).toISOString(),
      to: new Date(P0 + HOUR + 300_000).toISOString(),
      workloads: [{ leaseId: 'akash1abc/42/1/1', gpus: 1, seconds: 300 }],
    };
    connA.send({ type: 'usage', seq: 1, report: await signPayload(a.identity, report) });
    expect(await connA.next('ack')).toEqual({ type: 'ack', seq: 1 });
    // Node B leaves after ten hours (69% of the day: no availability).
    serverNow = P0 + 10 * HOUR;
    connA.send({ type: 'heartbeat', seq: 1, metrics: simMetrics() });
    await connB.close(true);
    const adjustment = await server.api<{ periodId: string }>('POST', '/v1/adjustments', {
      ...asReviewer,
      body: { nodeId: b.nodeId, amountUusd: '1000000', reason: 'goodwill for the router outage' },
    });
    expect(adjustment.body.periodId).toBe(periodId);

    // Before the end: a preview can be computed, but not locked.
    serverNow = P0 + 20 * HOUR;
    connA.send({ type: 'heartbeat', seq: 2, metrics: simMetrics() });
    const preview = await server.api<Statement>('POST', `/v1/payout-periods/${periodId}/compute`, asReviewer);
    expect(preview.body.status).toBe('computed');
    const early = await server.api<ErrorBody>('POST', `/v1/payout-periods/${periodId}/lock`, asReviewer);
    expect([early.status, early.body.error.code]).toEqual([409, 'PERIOD_NOT_ENDED']);

    serverNow = P0 + 24 * HOUR + 60_000;
    connA.send({ type: 'heartbeat', seq: 3, metrics: simMetrics() });
    await connA.close(true);
    const locked = await server.api<Statement>('POST', `/v1/payout-periods/${periodId}/lock`, asReviewer);
    expect(locked.status).toBe(200);
    expect(locked.body).toMatchObject({
      status: 'locked',
      rateCardVersion: card.body.version,
      totals: { nodes: 2 },
    });
    expect(locked.body.hash).toMatch(/^[0-9a-f]{64}$/);
    const lineA = locked.body.lines.find((l) => l.nodeId === a.nodeId)!;
    const lineB = locked.body.lines.find((l) => l.nodeId === b.nodeId)!;
    // A: up all 1 440 minutes → 24 GPU-hours × 200 000; 5 workload GPU-minutes × 500 000 / 60.
    expect(lineA).toMatchObject({
      upMinutes: 1440,
      uptimeTier: 'full',
      availabilityUusd: '4800000',
      workloadGpuMinutes: 5,
      workloadUusd: '41666',
      totalUusd: '4841666',
    });
    expect(lineB).toMatchObject({
      upMinutes: 600,
      uptimeTier: 'none',
      availabilityUusd: '0',
      adjustmentsUusd: '1000000',
      totalUusd: '1000000',
    });
    expect(locked.body.totals.totalUusd).toBe('5841666');

    const verify = await server.api<{ matches: boolean; hash: string }>(
      'POST',
      `/v1/payout-periods/${periodId}/verify`,
      asReviewer,
    );
    expect(verify.body).toEqual({ hash: locked.body.hash, recomputedHash: locked.body.hash, matches: true });
    expect(
      (await server.api<ErrorBody>('POST', `/v1/payout-periods/${periodId}/compute`, asReviewer)).status,
    ).toBe(409);

    // The CSV: one row per node, formula neutralised, money as integers.
    const csv = await server.api<string>('GET', `/v1/payout-periods/${periodId}/export.csv`, asReviewer);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    const rows = csv.body.trimEnd().split('\r\n');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toBe(
      'period_id,period_start,period_end,node_id,owner_id,owner_name,owner_email,gpu_class,period_minutes,up_minutes,credited_minutes,unverified_minutes,workload_gpu_minutes,uptime_tier,rate_card_version,availability_uusd,workload_uusd,adjustments_uusd,total_uusd,statement_hash',
    );
    const rowA = rows.find((r) => r.includes(a.nodeId))!;
    expect(rowA).toContain(
      `,"'=HYPERLINK(""x"")",hyper@example.com,nvidia/rtx4090/24Gi,1440,1440,0,0,5,full,${card.body.version},4800000,41666,0,4841666,${locked.body.hash}`,
    );
    expect(rowA).not.toMatch(/,=HYPERLINK/);
    const json = await server.api<Statement>('GET', `/v1/payout-periods/${periodId}/export.json`, asReviewer);
    expect(json.body.hash).toBe(locked.body.hash);

    // Later: a new rate card, a new adjustment and an outage declared for the locked day change nothing.
    await server.api('POST', '/v1/rate-cards', {
      ...asReviewer,
      body: {
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '999999', workloadUusdPerGpuHour: '1' },
        },
      },
    });
    const late = await server.api<{ periodId: string | null }>('POST', '/v1/adjustments', {
      ...asReviewer,
      body: { nodeId: a.nodeId, amountUusd: '-300000', reason: 'overpaid last week' },
    });
    expect(late.body.periodId).toBeNull();
    await server.api('POST', '/v1/outages', {
      token: await server.tokenFor('ops'),
      body: { start: '2026-11-09T02:00:00Z', end: '2026-11-09T03:00:00Z', reason: 'retroactive' },
    });
    expect(
      (await server.api<Statement>('GET', `/v1/payout-periods/${periodId}/statement`, asReviewer)).body.hash,
    ).toBe(locked.body.hash);
    expect(
      (await server.api<{ matches: boolean }>('POST', `/v1/payout-periods/${periodId}/verify`, asReviewer))
        .body.matches,
    ).toBe(true);

    // The adjustment lands in the next period once it exists.
    const next = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
      ...asReviewer,
      body: { start: '2026-11-10T00:00:00Z', end: '2026-11-11T00:00:00Z' },
    });
    const nextStatement = await server.api<Statement>(
      'POST',
      `/v1/payout-periods/${next.body.id}/compute`,
      asReviewer,
    );
    expect(nextStatement.body.lines.find((l) => l.nodeId === a.nodeId)).toMatchObject({
      adjustmentsUusd: '-300000',
      totalUusd: '-300000',
    });

    // Owners see their own earnings only.
    const ownerToken = await server.tokenFor('owner', owner.id);
    const earnings = await server.api<{
      periods: { periodId: string; estimate: boolean; lines: Line[]; totalUusd: string }[];
    }>('GET', '/v1/earnings', { token: ownerToken });
    const lockedEarning = earnings.body.periods.find((p) => p.periodId === periodId)!;
    expect(lockedEarning).toMatchObject({ estimate: false, totalUusd: '4841666' });
    expect(lockedEarning.lines.map((l) => l.nodeId)).toEqual([a.nodeId]);
    expect(earnings.body.periods.find((p) => p.periodId === next.body.id)?.estimate).toBe(true);
    expect((await server.api('GET', `/v1/earnings?ownerId=${other.id}`, { token: ownerToken })).status).toBe(
      404,
    );
    expect((await server.api('GET', '/v1/payout-periods', { token: ownerToken })).status).toBe(403);
    expect(
      (
        await server.api('POST', '/v1/payout-periods', {
          token: await server.tokenFor('ops'),
          body: { start: '2026-12-01T00:00:00Z', end: '2026-12-08T00:00:00Z' },
        })
      ).status,
    ).toBe(403);
    const audit = await server.api<{ entries: { action: string }[] }>('GET', '/v1/audit?limit=200');
    expect(audit.body.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining([
        'payout.locked',
        'payout.computed',
        'payout.adjustment',
        'payout.rate_card_added',
        'outage.declared',
      ]),
    );
  });

  it('detects its own downtime as an outage and credits nodes that were up right before it', async () => {
    let serverNow = P0;
    const first = await startTestServer({ now: () => serverNow });
    const { dbPath, port } = first;
    const reviewer = await first.tokenFor('reviewer');
    const owner = await first.createOwner();
    await first.api('POST', '/v1/rate-cards', {
      token: reviewer,
      body: {
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '60000', workloadUusdPerGpuHour: '0' },
        },
      },
    });
    const period = await first.api<{ id: string }>('POST', '/v1/payout-periods', {
      token: reviewer,
      body: { start: '2026-11-09T00:00:00Z', end: '2026-11-09T10:00:00Z' },
    });
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const { nodeId } = (
      await first.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await first.createKey(owner.id)).key, machine),
      })
    ).body;
    await first.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    const token = async () =>
      signNodeToken(identity, nodeId, { skewSeconds: Math.round((serverNow - Date.now()) / 1000) });
    const c1 = (await connectControl(first.url, await token())).conn!;
    c1.send(simHello());
    await c1.next('welcome');
    expect((await simulateAudit(first, c1, identity, nodeId)).status).toBe('passed');
    serverNow = P0 + 6 * HOUR;
    c1.send({ type: 'heartbeat', seq: 1, metrics: simMetrics() });
    await new Promise((r) => setTimeout(r, 100));
    // The server dies (its last sign of life at 06:00) and comes back at 08:00.
    await first.close({ keepFiles: true });
    serverNow = P0 + 8 * HOUR;
    const second = await startTestServer({ now: () => serverNow, dbPath, port });
    servers.push(second);
    const c2 = (await connectControl(second.url, await token())).conn!;
    c2.send(simHello());
    await c2.next('welcome');
    serverNow = P0 + 10 * HOUR;
    c2.send({ type: 'heartbeat', seq: 2, metrics: simMetrics() });
    await c2.close(true);
    const locked = await second.api<Statement>('POST', `/v1/payout-periods/${period.body.id}/lock`, {
      token: reviewer,
    });
    // Up 6 h + 2 h of 10 h is 80% (pro rata); the 2 h the server was down are credited: 100%, full.
    expect(locked.body.lines[0]).toMatchObject({
      nodeId,
      upMinutes: 480,
      uptimeTier: 'full',
      availabilityUusd: '600000',
    });
    const detail = (locked.body.lines[0] as Line & { creditedMinutes: number }).creditedMinutes;
    expect(detail).toBe(120);
  });
});
