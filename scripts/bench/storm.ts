/**
 * `npm run bench -- storm --agents N [--kill] [--json]`: N simulated agents (real protocol, real
 * Ed25519 JWTs, capped full-jitter backoff 1 s → 60 s) connected to the real server process; the
 * server is restarted (SIGTERM, or SIGKILL with --kill) and we time until every agent is back.
 */
import { FleetAgent } from '../sim/fleet-agent.js';
import { enrollSimNodes } from './fleet.js';
import { ONE_ADDRESS_FLEET_ENV } from '../sim/one-address.js';
import { startServerProcess } from './server-process.js';
import { round } from './stats.js';

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

export async function benchStorm({
  agents,
  kill,
  log,
}: {
  agents: number;
  kill: boolean;
  log: (l: string) => void;
}): Promise<Record<string, number>> {
  const server = await startServerProcess({ ...ONE_ADDRESS_FLEET_ENV });
  const fleet: FleetAgent[] = [];
  try {
    log(`enrolling ${agents} simulated nodes…`);
    const nodes = await enrollSimNodes(server.url, server.token, agents);
    log(`connecting ${agents} agents…`);
    for (const n of nodes)
      fleet.push(new FleetAgent({ url: server.url, nodeId: n.nodeId, identity: n.identity }));
    // Start them over ~5 s rather than all in one tick, as machines booting at different times would.
    for (const [i, agent] of fleet.entries()) {
      agent.start();
      if (i % 200 === 199) await new Promise((r) => setTimeout(r, 100));
    }
    if (!(await until(() => fleet.every((a) => a.connected), 120_000)))
      throw new Error('not every agent connected at the start');
    const connectsBefore = fleet.reduce((n, a) => n + a.connects, 0);
    const failedBefore = fleet.reduce((n, a) => n + a.failedAttempts + a.refusals, 0);
    log(`all ${agents} connected; restarting the server (${kill ? 'SIGKILL' : 'SIGTERM'})…`);
    const t0 = performance.now();
    const restart = await server.restart(kill ? 'SIGKILL' : 'SIGTERM');
    log(`server back after ${round(restart.readyMs / 1000, 1)} s; waiting for the agents…`);
    const back = await until(() => fleet.every((a) => a.connected && a.connects > 0), 180_000);
    const allBackSeconds = (performance.now() - t0) / 1000;
    const afterReadySeconds = (performance.now() - t0 - restart.readyMs) / 1000;
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    return {
      agents,
      serverOnOwnCore: server.pinned ? 1 : 0,
      allBack: back ? 1 : 0,
      connected: Number(/^homenode_connected_nodes (\d+)/m.exec(metrics)?.[1] ?? 0),
      serverDownSeconds: round(restart.readyMs / 1000, 2),
      allBackSeconds: round(allBackSeconds, 2),
      allBackAfterServerReadySeconds: round(afterReadySeconds, 2),
      reconnects: fleet.reduce((n, a) => n + a.connects, 0) - connectsBefore,
      failedOrRefusedAttempts: fleet.reduce((n, a) => n + a.failedAttempts + a.refusals, 0) - failedBefore,
      gaveUp: fleet.filter((a) => !a.connected).length,
      serverPeakRssMiB: round(server.peakRssMiB()),
      clientRssMiB: round(process.memoryUsage().rss / 1024 ** 2),
    };
  } finally {
    await Promise.all(fleet.map((a) => a.stop(false)));
    await server.stop();
    server.cleanup();
  }
}
