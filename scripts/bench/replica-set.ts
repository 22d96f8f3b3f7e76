/**
 * The multi-replica benchmark rig: a PostgreSQL server (Debian's postgresql-15, durable settings),
 * N enroll-server replica processes on it, and simulator worker processes (each under the 20,000
 * file descriptors a process may hold here). Every process is pinned with taskset:
 * - with at least N + 2 cores: replica i on core i, PostgreSQL on core N, the simulators on the rest;
 * - with fewer (this machine has 2): the replicas and PostgreSQL share core 0, the simulators core 1.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type PostgresServer, createDatabase, startPostgres } from '../postgres-server.js';
import { ONE_ADDRESS_FLEET_ENV } from '../sim/one-address.js';
import { type ServerProcess, startServerProcess } from './server-process.js';
import type { WorkerReply, WorkerRequest } from './sim-worker.js';

export interface PinPlan {
  replicas: string[];
  postgres: string;
  simulators: string;
  description: string;
}

export function replicaPinPlan(replicas: number, cores = availableParallelism()): PinPlan | null {
  const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.env.HOMENODE_BENCH_PIN === '0' || cores < 2 || !taskset) return null;
  if (cores >= replicas + 2) {
    const sims = `${replicas + 1}-${cores - 1}`;
    return {
      replicas: Array.from({ length: replicas }, (_, i) => String(i)),
      postgres: String(replicas),
      simulators: sims,
      description: `replica i on core i (0-${replicas - 1}), PostgreSQL on core ${replicas}, simulators on cores ${sims}`,
    };
  }
  const sims = cores > 2 ? `1-${cores - 1}` : '1';
  return {
    replicas: Array.from({ length: replicas }, () => '0'),
    postgres: '0',
    simulators: sims,
    description: `${cores} cores: the ${replicas} replicas and PostgreSQL share core 0, the simulators core${cores > 2 ? 's' : ''} ${sims}`,
  };
}

export class SimWorker {
  private readonly child: ChildProcess;
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;

  constructor(cpus: string | undefined) {
    const args = ['--import', 'tsx', join(import.meta.dirname, 'sim-worker.ts')];
    const [command, ...rest] = cpus
      ? ['taskset', '-c', cpus, process.execPath, ...args]
      : [process.execPath, ...args];
    this.child = spawn(command, rest, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = null;
      if (reply.type === 'error') pending?.reject(new Error(`simulator: ${reply.message}`));
      else pending?.resolve(reply);
    });
    this.child.on('exit', (code) => this.pending?.reject(new Error(`simulator exited (${code})`)));
  }

  ask<T extends WorkerReply['type']>(
    request: WorkerRequest,
    expect: T,
  ): Promise<Extract<WorkerReply, { type: T }>> {
    return new Promise((resolve, reject) => {
      this.pending = {
        resolve: (reply) =>
          reply.type === expect
            ? resolve(reply as Extract<WorkerReply, { type: T }>)
            : reject(new Error(`simulator answered ${reply.type}, not ${expect}`)),
        reject,
      };
      this.child.send(request);
    });
  }

  rssMiB(): number {
    try {
      const status = readFileSync(`/proc/${this.child.pid}/status`, 'utf8');
      return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) / 1024;
    } catch {
      return 0;
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ type: 'stop' } satisfies WorkerRequest);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

export interface ReplicaSet {
  postgres: PostgresServer;
  databaseUrl: string;
  token: string;
  replicas: ServerProcess[];
  plan: PinPlan | null;
  stop(): Promise<void>;
}

export async function startReplicaSet(count: number, log: (l: string) => void): Promise<ReplicaSet> {
  const plan = replicaPinPlan(count);
  log(plan ? `pinning: ${plan.description}` : 'not pinned (no taskset, one core, or HOMENODE_BENCH_PIN=0)');
  const postgres = await startPostgres({ durable: true, cpus: plan?.postgres, maxConnections: 300 });
  const db = await createDatabase(postgres.url, { prefix: 'hn_bench' });
  const token = `hn_bench_${randomBytes(24).toString('base64url')}`;
  const replicas: ServerProcess[] = [];
  // Every simulated node connects from this machine's one address: the per-address limits are
  // lifted, as for one server (without it each replica took 100 and refused the rest).
  const env = {
    ...ONE_ADDRESS_FLEET_ENV,
    HOMENODE_DATABASE_URL: db.url,
    HOMENODE_REPLICA_SECRET: randomBytes(32).toString('base64url'),
  };
  try {
    // The first migrates; the others find the schema in place.
    for (let i = 0; i < count; i += 1)
      replicas.push(await startServerProcess(env, { token, cpus: plan?.replicas[i] }));
  } catch (error) {
    await Promise.all(replicas.map((r) => r.stop()));
    await postgres.stop();
    throw error;
  }
  return {
    postgres,
    databaseUrl: db.url,
    token,
    replicas,
    plan,
    async stop() {
      await Promise.all(replicas.map((r) => r.stop().catch(() => undefined)));
      replicas.forEach((r) => r.cleanup());
      await postgres.stop();
    },
  };
}

/** Marks every node approved in one statement (set-up for benchmarks, not an API path). */
export async function approveAll(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const res = await client.query(
      "UPDATE nodes SET status = 'approved', approved_at = enrolled_at, approved_by = 'bench' WHERE status = 'pending'",
    );
    return res.rowCount ?? 0;
  } finally {
    await client.end();
  }
}

/** Splits n into k nearly equal parts. */
export const shares = (n: number, k: number): number[] =>
  Array.from({ length: k }, (_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
