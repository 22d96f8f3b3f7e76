/**
 * Verified availability through the real server (SQLite, the routes, the audit state history as
 * written by real audits of simulated nodes): a day in which one machine fails its audits for ten
 * hours is paid for availability only while it was verified (the two-hour grace, then nothing
 * until it passes again), its workload is paid as usual, and the locked statement's hash does
 * not move after a later audit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { simMetrics } from '../../scripts/sim/sim-agent.js';
import { HOUR, type SimNode, auditSetup } from './audit-sim-support.js';
import { waitForAudit } from '../helpers/audits.js';

type Line = {
  nodeId: string;
  upMinutes: number;
  unverifiedMinutes: number;
  uptimeTier: string;
  availabilityUusd: string;
  totalUusd: string;
};
type Statement = { status: string; hash: string; lines: Line[] };

const P0 = Date.parse('2026-11-09T00:00:00Z');
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('verified availability on a statement', () => {
  it('pays availability only for verified minutes after a long failure; the locked hash stays', async () => {
    const s = await auditSetup({ start: P0 });
    cleanup.push(() => s.server.close());
    const reviewer = { token: await s.server.tokenFor('reviewer') };
    const ops = { token: await s.server.tokenFor('ops') };
    await s.server.api('POST', '/v1/rate-cards', {
      ...reviewer,
      body: {
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        },
        note: 'audits',
      },
    });
    const period = await s.server.api<{ id: string }>('POST', '/v1/payout-periods', {
      ...reviewer,
      body: { start: '2026-11-09T00:00:00Z', end: '2026-11-10T00:00:00Z' },
    });
    const failing = await s.node();
    const steady = await s.node();
    let beat = 0;
    /** Move the server's clock; both nodes show a sign of life at once, as live nodes do. */
    const at = (ms: number) => {
      s.clock.set(P0 + ms);
      beat += 1;
      for (const n of [failing, steady]) n.conn.send({ type: 'heartbeat', seq: beat, metrics: simMetrics() });
    };
    const audit = async (node: SimNode, verdict: 'pass' | 'fail') => {
      const asked = await s.server.api<{ id: string }>('POST', `/v1/nodes/${node.nodeId}/audits`, ops);
      await s.tick();
      const request = await node.answer(verdict);
      expect(request.auditId).toBe(asked.body.id);
      return waitForAudit(s.server, node.nodeId, asked.body.id);
    };

    expect((await audit(failing, 'pass')).status).toBe('passed');
    expect((await audit(steady, 'pass')).status).toBe('passed');
    // Two hours in the GPU fails; it stays failed until the owner fixes it twelve hours in.
    at(2 * HOUR);
    expect((await audit(failing, 'fail')).status).toBe('failed');
    for (let hour = 3; hour < 12; hour += 1) at(hour * HOUR);
    at(12 * HOUR);
    expect((await audit(failing, 'pass')).status).toBe('passed');
    for (let hour = 13; hour <= 24; hour += 1) at(hour * HOUR);
    at(24 * HOUR + 60_000);
    await Promise.all([failing.conn.close(true), steady.conn.close(true)]);

    const locked = await s.server.api<Statement>(
      'POST',
      `/v1/payout-periods/${period.body.id}/lock`,
      reviewer,
    );
    expect(locked.status).toBe(200);
    const line = (n: SimNode) => locked.body.lines.find((l) => l.nodeId === n.nodeId);
    // Failing from 02:00 to 12:00: verified for the two-hour grace, then 8 hours (480 min) not.
    // 1 440 − 480 = 960 verified minutes × 200 000 uusd per GPU-hour ÷ 60 = 3 200 000.
    expect(line(failing)).toMatchObject({
      upMinutes: 1440,
      unverifiedMinutes: 480,
      uptimeTier: 'full',
      availabilityUusd: '3200000',
    });
    expect(line(steady)).toMatchObject({
      upMinutes: 1440,
      unverifiedMinutes: 0,
      availabilityUusd: '4800000',
    });

    const csv = await s.server.api<string>(
      'GET',
      `/v1/payout-periods/${period.body.id}/export.csv`,
      reviewer,
    );
    const header = csv.body.split('\r\n')[0]?.split(',') ?? [];
    const row =
      csv.body
        .split('\r\n')
        .find((r) => r.includes(failing.nodeId))
        ?.split(',') ?? [];
    expect(row[header.indexOf('unverified_minutes')]).toBe('480');

    // A later audit (another failure) does not move the locked statement.
    s.clock.set(P0 + 26 * HOUR);
    await failing.reconnect();
    expect((await audit(failing, 'fail')).status).toBe('failed');
    const verify = await s.server.api<{ matches: boolean; recomputedHash: string }>(
      'POST',
      `/v1/payout-periods/${period.body.id}/verify`,
      reviewer,
    );
    expect(verify.body).toMatchObject({ matches: true, recomputedHash: locked.body.hash });
  });
});
