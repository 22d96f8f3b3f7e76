/**
 * The hub's liveness pings: every session is pinged once per interval, the sessions spread over
 * the interval rather than all pinged at once (one loop over 10,000 sockets stalled the process),
 * and a session heard from by neither a frame nor a pong for the pong timeout is cut off, its
 * presence ended at its last sign of life, while a session that answers stays. The intervals are
 * shortened (600 ms pings, 1.2 s timeout) so that this takes seconds, not the deployed 15 s / 45 s.
 * Real server, real SQLite, real WebSockets: the `ws` client answers pings as an agent does, the
 * raw client answers none.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PING_SLICES } from '../../enroll-server/control/hub.js';
import type { SimConnection } from '../../scripts/sim/sim-agent.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { connectRaw, connectSim, enrollSimNode, until, within } from '../helpers/sim-nodes.js';

const PING_MS = 600;
const PONG_TIMEOUT_MS = 1_200;

const servers: TestServer[] = [];
const conns: SimConnection[] = [];
afterEach(async () => {
  await Promise.all(conns.splice(0).map((c) => c.close().catch(() => undefined)));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup() {
  const server = await startTestServer({
    control: { pingIntervalMs: PING_MS, pongTimeoutMs: PONG_TIMEOUT_MS },
  });
  servers.push(server);
  const owner = await server.createOwner();
  return { server, owner, repos: server.app.homenode.context.repos };
}

describe('liveness pings', () => {
  it('pings every session once per interval, a slice of the sessions at a time', async () => {
    const { server, owner } = await setup();
    const count = 2 * PING_SLICES;
    const nodes = await Promise.all(Array.from({ length: count }, () => enrollSimNode(server, owner.id)));
    for (const node of nodes) conns.push(await connectSim(server, node));
    const pings: number[][] = conns.map(() => []);
    const t0 = performance.now();
    conns.forEach((conn, i) => conn.socket.on('ping', () => pings[i]!.push(performance.now() - t0)));
    await new Promise((r) => setTimeout(r, 3 * PING_MS + PING_MS / 2));

    for (const times of pings) {
      // Three and a half intervals: three or four pings, about one interval apart.
      expect(times.length).toBeGreaterThanOrEqual(3);
      expect(times.length).toBeLessThanOrEqual(4);
      for (let k = 1; k < times.length; k += 1) {
        expect(times[k]! - times[k - 1]!).toBeGreaterThan(PING_MS / 2);
        expect(times[k]! - times[k - 1]!).toBeLessThan(PING_MS * 2);
      }
    }
    // Spread: the first pings of the 30 sessions came over most of an interval, never all in one
    // burst (each tick pings two of them).
    const firsts = pings.map((t) => t[0]!).sort((a, b) => a - b);
    expect(firsts.at(-1)! - firsts[0]!).toBeGreaterThan(PING_MS / 2);
    const mostInOneBurst = Math.max(...firsts.map((t) => firsts.filter((u) => u >= t && u < t + 15).length));
    expect(mostInOneBurst).toBeLessThanOrEqual(count / 3);
  });

  it('cuts off a session that answers no ping after the pong timeout and ends its presence; one that answers stays', async () => {
    const { server, owner, repos } = await setup();
    const silent = await enrollSimNode(server, owner.id, { approve: true });
    const answering = await enrollSimNode(server, owner.id, { approve: true });
    conns.push(await connectSim(server, answering));
    const raw = await connectRaw(server, silent);
    raw.sendJson({ type: 'hello', agentVersion: 'raw', bootId: 'b', hardwareDigest: 'd' });
    await until(() => raw.messages.some((m) => m.type === 'welcome'), 5000, 'welcome');
    const lastSign = performance.now();
    const hub = server.app.homenode.context.hub;
    expect(hub.isConnected(silent.nodeId)).toBe(true);

    await within(raw.whenClosed, PONG_TIMEOUT_MS + PING_MS + 5_000, 'the silent socket being cut off');
    const silentFor = performance.now() - lastSign;
    expect(silentFor).toBeGreaterThan(PONG_TIMEOUT_MS);
    expect(hub.isConnected(silent.nodeId)).toBe(false);
    // Two more timeouts: the session that answers pings is still there.
    await new Promise((r) => setTimeout(r, 2 * PONG_TIMEOUT_MS));
    expect(hub.isConnected(answering.nodeId)).toBe(true);
    expect(conns[0]!.socket.readyState).toBe(conns[0]!.socket.OPEN);

    await hub.flushPresence();
    const [interval] = await repos.presence.forNode(silent.nodeId, 0);
    expect(interval?.endReason).toBe('pong-timeout');
    expect(interval?.endedAt).toBe(interval?.lastSeenAt);
    const [live] = await repos.presence.forNode(answering.nodeId, 0);
    expect(live?.endedAt).toBeNull();
  });
});
