/**
 * `npm run bench -- control --agents N [--seconds S] [--json]`: N simulated agents (real protocol,
 * real Ed25519 JWTs, one process) against the real server process. Each agent heartbeats every
 * 15 s, staggered. Heartbeat latency is measured as the round trip of a heartbeat followed by a
 * WebSocket ping on the same connection: the pong can only come back after the server has taken
 * the heartbeat off the socket and handled it (frames are processed in order).
 */
import { HEARTBEAT_INTERVAL_MS } from '../../protocol/control.js';
import { enrollSimNodes } from './fleet.js';
import { ONE_ADDRESS_FLEET_ENV } from '../sim/one-address.js';
import { startServerProcess } from './server-process.js';
import { percentile, round } from './stats.js';
import { type SimConnection, connectControl, signNodeToken, simHello, simMetrics } from '../sim/sim-agent.js';

export interface ControlBenchOptions {
  agents: number;
  seconds: number;
  log: (line: string) => void;
}

async function connectAll(
  url: string,
  nodes: Awaited<ReturnType<typeof enrollSimNodes>>,
  log: (l: string) => void,
): Promise<{ conns: SimConnection[]; refused: number; seconds: number }> {
  const conns: SimConnection[] = [];
  let refused = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < nodes.length) {
      const node = nodes[next]!;
      next += 1;
      const { conn } = await connectControl(url, await signNodeToken(node.identity, node.nodeId));
      if (!conn) {
        refused += 1;
        continue;
      }
      conn.send(simHello());
      conns.push(conn);
      if (conns.length % 2000 === 0) log(`  ${conns.length} connected`);
    }
  };
  await Promise.all(Array.from({ length: 64 }, worker));
  return { conns, refused, seconds: (performance.now() - t0) / 1000 };
}

export async function benchControl({
  agents,
  seconds,
  log,
}: ControlBenchOptions): Promise<Record<string, number>> {
  const server = await startServerProcess({ ...ONE_ADDRESS_FLEET_ENV });
  const conns: SimConnection[] = [];
  try {
    log(`enrolling ${agents} simulated nodes…`);
    const nodes = await enrollSimNodes(server.url, server.token, agents);
    log(`connecting ${agents} agents…`);
    const connected = await connectAll(server.url, nodes, log);
    conns.push(...connected.conns);
    log(`steady state for ${seconds} s (heartbeat every ${HEARTBEAT_INTERVAL_MS / 1000} s per agent)…`);
    const latencies: number[] = [];
    const timers: NodeJS.Timeout[] = [];
    const cpu0 = server.cpuSeconds();
    const t0 = performance.now();
    conns.forEach((conn, i) => {
      let seq = 0;
      const beat = () => {
        if (conn.socket.readyState !== conn.socket.OPEN) return;
        seq += 1;
        const sent = performance.now();
        conn.send({ type: 'heartbeat', seq, metrics: simMetrics(i + seq) });
        conn.socket.ping();
        conn.socket.once('pong', () => latencies.push(performance.now() - sent));
      };
      // Stagger the first beats over one interval, as real agents started at different times would.
      timers.push(
        setTimeout(
          () => {
            beat();
            timers.push(setInterval(beat, HEARTBEAT_INTERVAL_MS));
          },
          (i / conns.length) * HEARTBEAT_INTERVAL_MS,
        ),
      );
    });
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = server.cpuSeconds() - cpu0;
    timers.forEach((t) => clearTimeout(t));
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const serverConnected = Number(/^homenode_connected_nodes (\d+)/m.exec(metrics)?.[1] ?? 0);
    latencies.sort((a, b) => a - b);
    return {
      agents,
      connected: serverConnected,
      serverOnOwnCore: server.pinned ? 1 : 0,
      refused: connected.refused,
      connectSeconds: round(connected.seconds, 2),
      heartbeats: latencies.length,
      p50HeartbeatMs: round(percentile(latencies, 50), 2),
      p99HeartbeatMs: round(percentile(latencies, 99), 2),
      maxHeartbeatMs: round(percentile(latencies, 100), 2),
      serverRssMiB: round(server.rssMiB()),
      serverPeakRssMiB: round(server.peakRssMiB()),
      serverCpuPct: round((cpu / elapsed) * 100),
      clientRssMiB: round(process.memoryUsage().rss / 1024 ** 2),
    };
  } finally {
    await Promise.all(conns.map((c) => c.close(false).catch(() => undefined)));
    await server.stop();
    server.cleanup();
  }
}
