/**
 * `npm run bench -- control --replicas R --agents N [--seconds S] [--json]`: N simulated agents
 * spread evenly over R enroll-server replicas on one PostgreSQL database, from several simulator
 * processes (at most 10,000 connections each). Heartbeat latency as in the one-server benchmark:
 * a heartbeat and a ping on the same connection, timed to the pong. With `approved`, every node is
 * approved before it connects, as in a fleet at work: each session then counts towards uptime, so
 * its presence is written every 5 s, and it is sent its cluster join (a WireGuard address each).
 */
import pg from 'pg';
import { percentile, round } from './stats.js';
import { SimWorker, approveAll, shares, startReplicaSet } from './replica-set.js';

const PER_WORKER = 10_000;

export async function benchControlReplicas(options: {
  replicas: number;
  agents: number;
  seconds: number;
  approved?: boolean;
  /** Seconds between the last connection and the measurement (the connections' own work drains). */
  settle?: number;
  log: (l: string) => void;
}): Promise<Record<string, number>> {
  const { replicas: count, agents, seconds, log } = options;
  const set = await startReplicaSet(count, log);
  const workers: SimWorker[] = [];
  try {
    const urls = set.replicas.map((r) => r.url);
    const parts = shares(agents, Math.max(1, Math.ceil(agents / PER_WORKER)));
    for (let i = 0; i < parts.length; i += 1) workers.push(new SimWorker(set.plan?.simulators));
    log(
      `enrolling ${agents} simulated nodes through ${count} replicas (${workers.length} simulator processes)…`,
    );
    const enrolled = await Promise.all(
      workers.map((w, i) =>
        w.ask(
          { type: 'enroll', url: urls[i % urls.length]!, token: set.token, count: parts[i]!, concurrency: 8 },
          'enrolled',
        ),
      ),
    );
    const enrollSeconds = Math.max(...enrolled.map((e) => e.seconds));
    const approved = options.approved ? `; approved ${await approveAll(set.databaseUrl)}` : '';
    log(`enrolled in ${round(enrollSeconds)} s${approved}; connecting…`);
    let offset = 0;
    const connected = await Promise.all(
      workers.map((w, i) => {
        const request = { type: 'connect' as const, urls, offset };
        offset += parts[i]!;
        return w.ask(request, 'connected');
      }),
    );
    const total = connected.reduce((n, c) => n + c.connected, 0);
    const settle = options.settle ?? 10;
    log(
      `${total} connected in ${round(Math.max(...connected.map((c) => c.seconds)))} s; ${settle} s to settle, then steady state for ${seconds} s…`,
    );
    await new Promise((r) => setTimeout(r, settle * 1000));
    // Reading /metrics resets the replicas' event-loop histograms: what the second read shows is
    // the steady window's.
    const before = await Promise.all(set.replicas.map((r) => replicaLoop(r.url)));
    const cpu0 = set.replicas.map((r) => r.cpuSeconds());
    const t0 = performance.now();
    const measured = await Promise.all(workers.map((w) => w.ask({ type: 'steady', seconds }, 'latencies')));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = set.replicas.map((r, i) => r.cpuSeconds() - cpu0[i]!);
    const after = await Promise.all(set.replicas.map((r) => replicaLoop(r.url)));
    const latencies = measured.flatMap((m) => m.latencies).sort((a, b) => a - b);
    logTail(
      measured.flatMap((m) => m.slow),
      latencies,
      log,
    );
    const perReplica = await Promise.all(
      set.replicas.map(async (r) => {
        const metrics = await (await fetch(`${r.url}/metrics`)).text();
        return Number(/^homenode_connected_nodes (\d+)/m.exec(metrics)?.[1] ?? 0);
      }),
    );
    // Approved: every open interval was written within the last presence batches (5 s apart).
    const fleet = await fleetFigures(set.databaseUrl, Date.now() - 25_000);
    const result: Record<string, number> = {
      replicas: count,
      agents,
      approved: options.approved ? 1 : 0,
      settleSeconds: settle,
      openIntervalsSeenInLast25s: fleet.fresh,
      auditsRequested: fleet.audits,
      connected: perReplica.reduce((a, b) => a + b, 0),
      pinned: set.plan ? 1 : 0,
      simulatorProcesses: workers.length,
      refused: connected.reduce((n, c) => n + c.refused, 0),
      enrollSeconds: round(enrollSeconds, 1),
      connectSeconds: round(Math.max(...connected.map((c) => c.seconds)), 2),
      heartbeats: latencies.length,
      p50HeartbeatMs: round(percentile(latencies, 50), 2),
      p99HeartbeatMs: round(percentile(latencies, 99), 2),
      maxHeartbeatMs: round(percentile(latencies, 100), 2),
      simulatorRssMiB: round(Math.max(...workers.map((w) => w.rssMiB()))),
      simulatorLoopMaxMs: round(Math.max(...measured.map((m) => m.loopMaxMs))),
      simulatorLoopP99Ms: round(Math.max(...measured.map((m) => m.loopP99Ms))),
      simulatorGcMaxMs: round(Math.max(...measured.map((m) => m.gcMaxMs))),
    };
    set.replicas.forEach((r, i) => {
      result[`replica${i + 1}Connected`] = perReplica[i]!;
      result[`replica${i + 1}RssMiB`] = round(r.rssMiB());
      result[`replica${i + 1}CpuPct`] = round((cpu[i]! / elapsed) * 100);
      result[`replica${i + 1}LoopMaxMs`] = round(after[i]!.maxMs);
      result[`replica${i + 1}LoopP99Ms`] = round(after[i]!.p99Ms);
      result[`replica${i + 1}GcMs`] = round(after[i]!.gcMs - before[i]!.gcMs);
    });
    return result;
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await set.stop();
  }
}

/** A replica's event-loop delay since its last /metrics read, and its garbage collection so far. */
async function replicaLoop(url: string): Promise<{ maxMs: number; p99Ms: number; gcMs: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} ([0-9.e+-]+)`, 'm').exec(text)?.[1] ?? 0);
  const gcSeconds = [
    ...text.matchAll(/^homenode_nodejs_gc_duration_seconds_sum\{[^}]*\} ([0-9.e+-]+)/gm),
  ].reduce((n, m) => n + Number(m[1]), 0);
  return {
    maxMs: value('homenode_nodejs_eventloop_lag_max_seconds') * 1000,
    p99Ms: value('homenode_nodejs_eventloop_lag_p99_seconds') * 1000,
    gcMs: gcSeconds * 1000,
  };
}

/** Where the slow heartbeats were: by replica, and by second of the run (the busiest seconds). */
function logTail(
  slow: { at: number; ms: number; replica: number }[],
  sorted: number[],
  log: (l: string) => void,
): void {
  const p99 = percentile(sorted, 99);
  const tail = slow.filter((s) => s.ms >= p99);
  const byReplica = new Map<number, number>();
  const bySecond = new Map<number, { n: number; replicas: Set<number> }>();
  for (const s of tail) {
    byReplica.set(s.replica, (byReplica.get(s.replica) ?? 0) + 1);
    const second = Math.floor(s.at);
    const b = bySecond.get(second) ?? { n: 0, replicas: new Set<number>() };
    b.n += 1;
    b.replicas.add(s.replica);
    bySecond.set(second, b);
  }
  log(
    `${slow.length} heartbeats over 50 ms; the ${tail.length} at or over p99 (${round(p99, 1)} ms) by replica: ${[
      ...byReplica,
    ]
      .sort((a, b) => a[0] - b[0])
      .map(([r, n]) => `${r + 1}: ${n}`)
      .join(', ')}`,
  );
  const busiest = [...bySecond].sort((a, b) => b[1].n - a[1].n).slice(0, 12);
  log(
    `busiest seconds (second: samples [replicas]): ${busiest
      .sort((a, b) => a[0] - b[0])
      .map(([s, b]) => `${s}: ${b.n} [${[...b.replicas].map((r) => r + 1).join(',')}]`)
      .join('; ')}`,
  );
}

/**
 * Open presence intervals whose last sign of life was written at or after `since`, and the audits
 * the replicas have asked for so far (approved nodes are audited; the simulator does not answer).
 */
async function fleetFigures(databaseUrl: string, since: number): Promise<{ fresh: number; audits: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const fresh = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM presence_intervals WHERE ended_at IS NULL AND last_seen_at >= $1',
      [since],
    );
    const audits = await client.query<{ n: string }>('SELECT count(*) AS n FROM audits');
    return { fresh: Number(fresh.rows[0]?.n ?? 0), audits: Number(audits.rows[0]?.n ?? 0) };
  } finally {
    await client.end();
  }
}
