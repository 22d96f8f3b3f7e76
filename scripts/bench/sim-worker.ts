/**
 * One simulator process of a multi-process benchmark (`control --replicas`, `storm --replicas`): a
 * process may hold at most 20,000 file descriptors here, so 30,000 connections need several. The
 * parent drives it over IPC: enroll its share of nodes, connect them (spread over the replicas),
 * heartbeat and measure, or run them as reconnecting agents and time their return after a replica
 * is killed. Run as `node --import tsx scripts/bench/sim-worker.ts` with an IPC channel.
 */
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { HEARTBEAT_INTERVAL_MS } from '../../protocol/control.js';
import { FleetAgent } from '../sim/fleet-agent.js';
import { type SimConnection, connectControl, signNodeToken, simHello, simMetrics } from '../sim/sim-agent.js';
import { type SimNode, enrollSimNodes } from './fleet.js';

export type WorkerRequest =
  | { type: 'enroll'; url: string; token: string; count: number; concurrency: number }
  | { type: 'connect'; urls: string[]; offset: number }
  | { type: 'steady'; seconds: number }
  | { type: 'agents'; urls: string[] }
  | { type: 'killed'; url: string; timeoutMs: number }
  | { type: 'stop' };

export type WorkerReply =
  | { type: 'enrolled'; nodeIds: string[]; seconds: number }
  | { type: 'connected'; connected: number; refused: number; seconds: number }
  | {
      type: 'latencies';
      latencies: number[];
      /** Samples over SLOW_MS: when (seconds into the run), how long, and which replica (url index). */
      slow: { at: number; ms: number; replica: number }[];
      /** This process's own event-loop delay and garbage collection over the run. */
      loopP99Ms: number;
      loopMaxMs: number;
      gcMs: number;
      gcMaxMs: number;
    }
  | { type: 'agents-up'; byUrl: Record<string, number>; seconds: number }
  | {
      type: 'back';
      moved: number;
      allBack: boolean;
      seconds: number;
      /** Seconds from the kill until each agent that came back was connected to another replica. */
      backSeconds: number[];
      /** The last refusal of each agent that did not come back (HTTP status; 0: no answer). */
      notBack: number[];
      gaveUp: number;
      failedOrRefused: number;
      reconnects: number;
    }
  | { type: 'error'; message: string };

const send = (reply: WorkerReply) => process.send?.(reply);

let nodes: SimNode[] = [];
const conns: SimConnection[] = [];
/** Which replica (index into the urls) each connection went to. */
const connReplica: number[] = [];
/** Heartbeat samples slower than this are reported one by one, to see where the tail comes from. */
const SLOW_MS = 50;
const fleet: FleetAgent[] = [];

async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Node i goes to replica (offset + i) mod n: an even spread, as a balancer would give. */
async function connect(urls: string[], offset: number): Promise<WorkerReply> {
  let refused = 0;
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < nodes.length) {
      const i = next;
      next += 1;
      const node = nodes[i]!;
      const url = urls[(offset + i) % urls.length]!;
      const { conn } = await connectControl(url, await signNodeToken(node.identity, node.nodeId));
      if (!conn) {
        refused += 1;
        continue;
      }
      conn.send(simHello());
      conns.push(conn);
      connReplica.push((offset + i) % urls.length);
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return { type: 'connected', connected: conns.length, refused, seconds: (performance.now() - t0) / 1000 };
}

async function steady(seconds: number): Promise<WorkerReply> {
  const latencies: number[] = [];
  const slow: { at: number; ms: number; replica: number }[] = [];
  const timers: NodeJS.Timeout[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  let gcMs = 0;
  let gcMaxMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcMs += entry.duration;
      gcMaxMs = Math.max(gcMaxMs, entry.duration);
    }
  });
  gc.observe({ entryTypes: ['gc'] });
  loop.enable();
  const t0 = performance.now();
  conns.forEach((conn, i) => {
    let seq = 0;
    const beat = () => {
      if (conn.socket.readyState !== conn.socket.OPEN) return;
      seq += 1;
      const sent = performance.now();
      conn.send({ type: 'heartbeat', seq, metrics: simMetrics(i + seq) });
      conn.socket.ping();
      conn.socket.once('pong', () => {
        const ms = performance.now() - sent;
        latencies.push(ms);
        if (ms > SLOW_MS) slow.push({ at: (sent - t0) / 1000, ms, replica: connReplica[i] ?? -1 });
      });
    };
    // Staggered over one interval, as agents started at different times would be.
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
  timers.forEach((t) => clearTimeout(t));
  loop.disable();
  gc.disconnect();
  return {
    type: 'latencies',
    latencies,
    slow,
    loopP99Ms: loop.percentile(99) / 1e6,
    loopMaxMs: loop.max / 1e6,
    gcMs,
    gcMaxMs,
  };
}

async function startAgents(urls: string[]): Promise<WorkerReply> {
  const t0 = performance.now();
  for (const [i, n] of nodes.entries()) {
    const agent = new FleetAgent({ url: urls[0]!, urls, nodeId: n.nodeId, identity: n.identity });
    fleet.push(agent);
    agent.start();
    // Over a few seconds rather than in one tick, as machines booting at different times would.
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 100));
  }
  if (!(await until(() => fleet.every((a) => a.connected), 180_000)))
    throw new Error(
      `only ${fleet.filter((a) => a.connected).length} of ${fleet.length} agents connected; last refusals of the others: ${JSON.stringify(
        fleet
          .filter((a) => !a.connected)
          .reduce<Record<string, number>>((m, a) => {
            const k = `${a.lastRefusal} ${a.lastRefusalBody} after ${a.refusals} refused, ${a.failedAttempts} failed, ${a.connects} connects`;
            m[k] = (m[k] ?? 0) + 1;
            return m;
          }, {}),
      )}`,
    );
  const byUrl: Record<string, number> = {};
  for (const a of fleet) if (a.url) byUrl[a.url] = (byUrl[a.url] ?? 0) + 1;
  return { type: 'agents-up', byUrl, seconds: (performance.now() - t0) / 1000 };
}

async function afterKill(url: string, timeoutMs: number): Promise<WorkerReply> {
  const t0 = performance.now();
  const moved = fleet.filter((a) => a.url === url);
  const connectsBefore = moved.reduce((n, a) => n + a.connects, 0);
  const failedBefore = moved.reduce((n, a) => n + a.failedAttempts + a.refusals, 0);
  const backAt = new Map<FleetAgent, number>();
  const allBack = await until(() => {
    for (const a of moved)
      if (!backAt.has(a) && a.connected && a.url !== url) backAt.set(a, (performance.now() - t0) / 1000);
    return backAt.size === moved.length;
  }, timeoutMs);
  return {
    type: 'back',
    moved: moved.length,
    allBack,
    seconds: (performance.now() - t0) / 1000,
    backSeconds: [...backAt.values()],
    notBack: moved.filter((a) => !backAt.has(a)).map((a) => a.lastRefusal ?? -1),
    gaveUp: moved.filter((a) => !a.connected).length,
    failedOrRefused: moved.reduce((n, a) => n + a.failedAttempts + a.refusals, 0) - failedBefore,
    reconnects: moved.reduce((n, a) => n + a.connects, 0) - connectsBefore,
  };
}

async function handle(request: WorkerRequest): Promise<WorkerReply | undefined> {
  switch (request.type) {
    case 'enroll': {
      const t0 = performance.now();
      nodes = await enrollSimNodes(request.url, request.token, request.count, request.concurrency);
      return {
        type: 'enrolled',
        nodeIds: nodes.map((n) => n.nodeId),
        seconds: (performance.now() - t0) / 1000,
      };
    }
    case 'connect':
      return connect(request.urls, request.offset);
    case 'steady':
      return steady(request.seconds);
    case 'agents':
      return startAgents(request.urls);
    case 'killed':
      return afterKill(request.url, request.timeoutMs);
    case 'stop':
      await Promise.all([
        ...conns.map((c) => c.close(false).catch(() => undefined)),
        ...fleet.map((a) => a.stop(false)),
      ]);
      process.exit(0);
  }
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (reply) => reply && send(reply),
    (error: unknown) =>
      send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
