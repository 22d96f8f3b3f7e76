/**
 * `npm run bench -- storm --replicas R --kill one --agents N [--json]`: N simulated agents
 * (reconnecting with capped full-jitter backoff, each attempt to a replica picked at random, as a
 * load balancer or DNS round robin would) over R replicas on one PostgreSQL database; one replica
 * is killed with SIGKILL and we time until every one of its nodes holds a session on another.
 */
import { percentile, round } from './stats.js';
import { SimWorker, approveAll, shares, startReplicaSet } from './replica-set.js';

const PER_WORKER = 10_000;

export async function benchStormReplicas(options: {
  replicas: number;
  agents: number;
  log: (l: string) => void;
}): Promise<Record<string, number>> {
  const { replicas: count, agents, log } = options;
  const set = await startReplicaSet(count, log);
  const workers: SimWorker[] = [];
  try {
    const urls = set.replicas.map((r) => r.url);
    const parts = shares(agents, Math.max(1, Math.ceil(agents / PER_WORKER)));
    for (let i = 0; i < parts.length; i += 1) workers.push(new SimWorker(set.plan?.simulators));
    log(`enrolling ${agents} simulated nodes…`);
    await Promise.all(
      workers.map((w, i) =>
        w.ask(
          { type: 'enroll', url: urls[i % urls.length]!, token: set.token, count: parts[i]!, concurrency: 8 },
          'enrolled',
        ),
      ),
    );
    // Approved, so that their sessions count and write presence (set in the database directly).
    await approveAll(set.databaseUrl);
    log('starting the agents…');
    const up = await Promise.all(workers.map((w) => w.ask({ type: 'agents', urls }, 'agents-up')));
    const byUrl: Record<string, number> = {};
    for (const u of up) for (const [url, n] of Object.entries(u.byUrl)) byUrl[url] = (byUrl[url] ?? 0) + n;
    // Let one presence batch land, so the killed replica leaves intervals to close.
    await new Promise((r) => setTimeout(r, 6_000));
    const victimIndex = urls.reduce(
      (best, url, i) => ((byUrl[url] ?? 0) > (byUrl[urls[best]!] ?? 0) ? i : best),
      0,
    );
    const victim = set.replicas[victimIndex]!;
    log(
      `${agents} connected (${urls.map((u) => byUrl[u] ?? 0).join(' / ')}); killing replica ${victimIndex + 1} (SIGKILL)…`,
    );
    const t0 = performance.now();
    await victim.stop('SIGKILL');
    const back = await Promise.all(
      workers.map((w) => w.ask({ type: 'killed', url: victim.url, timeoutMs: 180_000 }, 'back')),
    );
    const seconds = (performance.now() - t0) / 1000;
    const backSeconds = back.flatMap((b) => b.backSeconds).sort((a, b) => a - b);
    const notBack = back.flatMap((b) => b.notBack);
    const survivors = set.replicas.filter((r) => r !== victim);
    const connectedAfter = await Promise.all(
      survivors.map(async (r) => {
        const metrics = await (await fetch(`${r.url}/metrics`)).text();
        return Number(/^homenode_connected_nodes (\d+)/m.exec(metrics)?.[1] ?? 0);
      }),
    );
    return {
      replicas: count,
      agents,
      pinned: set.plan ? 1 : 0,
      simulatorProcesses: workers.length,
      onKilledReplica: back.reduce((n, b) => n + b.moved, 0),
      allBack: back.every((b) => b.allBack) ? 1 : 0,
      backWithin60s: backSeconds.filter((t) => t <= 60).length,
      p50BackSeconds: round(percentile(backSeconds, 50), 2),
      p99BackSeconds: round(percentile(backSeconds, 99), 2),
      lastBackSeconds: round(percentile(backSeconds, 100), 2),
      notBack: notBack.length,
      notBackLastRefusedWith: Math.max(-1, ...notBack),
      allBackSeconds: round(seconds, 2),
      slowestWorkerSeconds: round(Math.max(...back.map((b) => b.seconds)), 2),
      gaveUp: back.reduce((n, b) => n + b.gaveUp, 0),
      failedOrRefusedAttempts: back.reduce((n, b) => n + b.failedOrRefused, 0),
      reconnects: back.reduce((n, b) => n + b.reconnects, 0),
      connectedAfter: connectedAfter.reduce((a, b) => a + b, 0),
      survivorPeakRssMiB: round(Math.max(...survivors.map((r) => r.peakRssMiB()))),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await set.stop();
  }
}
