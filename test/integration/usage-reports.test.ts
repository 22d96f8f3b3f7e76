/**
 * The money rule at the door (DESIGN.md "Uptime and workload accounting"): a node's signed usage
 * reports never overlap in time and never reach into the future. A real server, simulated agents
 * with real signatures, a statement computed over HTTP.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SimConnection,
  type SimIdentity,
  connectControl,
  newSimIdentity,
  signNodeToken,
  signPayload,
  simHello,
} from '../../scripts/sim/sim-agent.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, manualClock, startTestServer } from '../helpers/server.js';

const P0 = Date.parse('2026-11-09T00:00:00Z');
const HOUR = 3_600_000;
const MINUTE = 60_000;
const LEASE = 'akash1q7spxfj3ps6lx4qk2xlqjkxr3wpjyjmk4ap0vn/18744213/1/1';

type Line = { nodeId: string; upMinutes: number; workloadGpuMinutes: number; workloadUusd: string };
type ServerFrame = { type: string; seq?: number; code?: string; message?: string };
type Node = { nodeId: string; identity: SimIdentity; conn: SimConnection; frames: ServerFrame[] };

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server on a hand-moved clock with a rate card and a one-day period starting at P0. */
async function setup() {
  const clock = manualClock(P0 - HOUR);
  const server = await startTestServer({ now: clock.now });
  servers.push(server);
  const reviewer = { token: await server.tokenFor('reviewer') };
  await server.api('POST', '/v1/rate-cards', {
    ...reviewer,
    body: {
      effectiveFrom: '2026-11-01T00:00:00Z',
      rates: { 'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '0', workloadUusdPerGpuHour: '600000' } },
    },
  });
  const period = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
    ...reviewer,
    body: { start: new Date(P0).toISOString(), end: new Date(P0 + 24 * HOUR).toISOString() },
  });
  const owner = await server.createOwner();

  /** An approved node (one RTX 4090) connected on the server's clock. */
  async function node(): Promise<Node> {
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const { nodeId } = (
      await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await server.createKey(owner.id)).key, machine),
      })
    ).body;
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    const token = await signNodeToken(identity, nodeId, {
      skewSeconds: Math.round((clock.now() - Date.now()) / 1000),
    });
    const { conn } = await connectControl(server.url, token);
    if (!conn) throw new Error('the node was refused');
    conn.send(simHello());
    await conn.next('welcome');
    const frames: ServerFrame[] = [];
    conn.listen((m) => frames.push(m));
    return { nodeId, identity, conn, frames };
  }

  /** Send one signed report and return the server's answer to it (an ack or an error). */
  async function report(
    n: Node,
    seq: number,
    from: number,
    to: number,
    seconds: number,
    gpus = 1,
  ): Promise<ServerFrame> {
    const payload = {
      nodeId: n.nodeId,
      seq,
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      workloads: [{ leaseId: LEASE, gpus, seconds }],
    };
    n.conn.send({ type: 'usage', seq, report: await signPayload(n.identity, payload) });
    for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
      const i = n.frames.findIndex((f) => (f.type === 'ack' || f.type === 'error') && f.seq === seq);
      if (i >= 0) return n.frames.splice(i, 1)[0]!;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`no answer to usage report ${seq}: ${JSON.stringify(n.frames)}`);
  }

  const line = async (nodeId: string): Promise<Line> => {
    const statement = await server.api<{ lines: Line[] }>(
      'POST',
      `/v1/payout-periods/${period.body.id}/compute`,
      reviewer,
    );
    const found = statement.body.lines.find((l) => l.nodeId === nodeId);
    if (!found) throw new Error(`no line for ${nodeId}: ${JSON.stringify(statement.body)}`);
    return found;
  };
  return { server, clock, node, report, line };
}

describe('usage reports: never overlapping, never in the future', () => {
  it('pays once when a node signs ten reports with different seqs for the same window', async () => {
    const { server, clock, node, report, line } = await setup();
    clock.set(P0);
    const n = await node();
    clock.set(P0 + HOUR + 5 * MINUTE);
    const from = P0 + HOUR;
    const to = from + 5 * MINUTE;
    expect(await report(n, 1, from, to, 300)).toEqual({ type: 'ack', seq: 1 });
    for (let seq = 2; seq <= 10; seq += 1) {
      const answer = await report(n, seq, from, to, 300);
      expect(answer).toMatchObject({ type: 'error', code: 'USAGE_OVERLAP', seq });
      expect(answer.message).toContain('overlaps report 1');
    }
    // A resend of the stored report is still acknowledged (and stored once).
    expect(await report(n, 1, from, to, 300)).toEqual({ type: 'ack', seq: 1 });
    expect((await server.app.homenode.context.repos.usage.forNode(n.nodeId)).map((r) => r.seq)).toEqual([1]);
    clock.set(P0 + 2 * HOUR);
    await n.conn.close(true);
    // One five-minute window of one GPU: 5 GPU-minutes at 600 000 uusd per GPU-hour, not 50.
    expect(await line(n.nodeId)).toMatchObject({ workloadGpuMinutes: 5, workloadUusd: '50000' });
  });

  it('refuses a window that overlaps a stored one in part, or ends after the server clock plus the allowed skew (60 s); accepts one that only touches', async () => {
    const { server, clock, node, report } = await setup();
    clock.set(P0);
    const n = await node();
    const now = P0 + HOUR;
    clock.set(now);
    const from = now - 10 * MINUTE;
    expect(await report(n, 1, from, from + 5 * MINUTE, 300)).toEqual({ type: 'ack', seq: 1 });
    expect(await report(n, 2, from + 4 * MINUTE, from + 9 * MINUTE, 300)).toMatchObject({
      code: 'USAGE_OVERLAP',
      seq: 2,
    });
    expect(await report(n, 3, from - 5 * MINUTE + 1, from + 1, 1)).toMatchObject({ code: 'USAGE_OVERLAP' });
    expect(await report(n, 4, from + 5 * MINUTE, from + 10 * MINUTE, 300)).toEqual({ type: 'ack', seq: 4 });

    const future = await report(n, 5, now, now + 61_000, 30);
    expect(future).toMatchObject({ type: 'error', code: 'USAGE_IN_FUTURE', seq: 5 });
    expect(future.message).toContain('allowed clock skew of 60 s');
    expect(future.message).toContain("Check this machine's clock");
    // Within the skew it is accepted.
    expect(await report(n, 6, now, now + 59_000, 30)).toEqual({ type: 'ack', seq: 6 });
    expect((await server.app.homenode.context.repos.usage.forNode(n.nodeId)).map((r) => r.seq)).toEqual([
      1, 4, 6,
    ]);
  });

  it('property: whatever signed reports a node sends, none stored overlap, and the statement pays each window once, within up time × GPUs', async () => {
    const { server, clock, node, report, line } = await setup();
    const windowArb = fc.record({
      // Start minute within the first two hours of the period; length 1 s – 20 min.
      fromSecond: fc.integer({ min: 0, max: 2 * 3600 }),
      lengthSeconds: fc.integer({ min: 1, max: 1200 }),
      gpus: fc.integer({ min: 0, max: 4 }),
      share: fc.integer({ min: 0, max: 100 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(windowArb, { minLength: 1, maxLength: 12 }), async (windows) => {
        clock.set(P0);
        const n = await node();
        clock.set(P0 + 3 * HOUR);
        const accepted: { from: number; to: number; gpus: number; seconds: number }[] = [];
        for (const [k, w] of windows.entries()) {
          const from = P0 + w.fromSecond * 1000;
          const to = from + w.lengthSeconds * 1000;
          const seconds = Math.floor((w.lengthSeconds * w.share) / 100);
          const answer = await report(n, k + 1, from, to, seconds, w.gpus);
          const overlaps = accepted.some((a) => a.from < to && from < a.to);
          expect(answer.type).toBe(overlaps ? 'error' : 'ack');
          if (!overlaps) accepted.push({ from, to, gpus: w.gpus, seconds });
        }
        const rows = await server.app.homenode.context.repos.usage.forNode(n.nodeId);
        const sorted = [...rows].sort((a, b) => a.fromAt - b.fromAt);
        for (let i = 1; i < sorted.length; i += 1)
          expect(sorted[i]!.fromAt).toBeGreaterThanOrEqual(sorted[i - 1]!.toAt);
        await n.conn.close(true);
        const l = await line(n.nodeId);
        // One RTX 4090, up all three hours: no more than one GPU-minute per minute reported, ever.
        const reported = accepted.reduce(
          (sum, a) => sum + Math.min(a.gpus * a.seconds, Math.floor((a.to - a.from) / 1000)),
          0,
        );
        // Every accepted report lies inside up time: each is paid once, in full (capped at 1 GPU).
        expect(l.workloadGpuMinutes).toBe(Math.floor(reported / 60));
        expect(l.workloadGpuMinutes).toBeLessThanOrEqual(l.upMinutes * 1);
      }),
      { numRuns: 30 },
    );
  });
});
