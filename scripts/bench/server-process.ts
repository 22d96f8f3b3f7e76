/** Start the real enroll-server as a separate process for benchmarks and fault tests, restart it, and read its CPU and memory. */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerProcess {
  /** True when the server runs on its own core and the simulator on the others. */
  pinned: boolean;
  url: string;
  token: string;
  dbPath: string;
  readonly pid: number;
  child: ChildProcess;
  /** CPU seconds (user + system) this process has used so far. */
  cpuSeconds(): number;
  /** Peak resident memory of this process in MiB (VmHWM). */
  peakRssMiB(): number;
  rssMiB(): number;
  /** Stop (SIGTERM, or SIGKILL for a crash) and start again on the same port and database. */
  restart(signal?: 'SIGTERM' | 'SIGKILL', pauseMs?: number): Promise<{ downMs: number; readyMs: number }>;
  /** Stop it; `kill` for SIGKILL. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Remove the temporary database folder (after stop). */
  cleanup(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function procStatus(pid: number, field: string): number {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    );
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

async function waitReady(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`server did not become ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * With two or more cores and `taskset`, the server runs on core 0 and this process (the simulator)
 * on the others, so neither steals the other's CPU and the figures say which side is the limit.
 * Set HOMENODE_BENCH_PIN=0 to turn it off.
 */
export function pinningPlan(): { server: string[]; pinned: boolean } {
  const cores = availableParallelism();
  const taskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
  if (process.env.HOMENODE_BENCH_PIN === '0' || cores < 2 || !taskset) return { server: [], pinned: false };
  spawnSync('taskset', ['-acp', `1-${cores - 1}`, String(process.pid)], { stdio: 'ignore' });
  return { server: ['taskset', '-c', '0'], pinned: true };
}

export interface ServerProcessOptions {
  /** The admin token (replicas of one database share the first one's). */
  token?: string;
  /** Run on these CPUs (a taskset list such as "0" or "1,2") instead of the default plan. */
  cpus?: string;
}

/**
 * With HOMENODE_DATABASE_URL in `env` the server is a replica: its HOMENODE_REPLICA_URL is its own
 * loopback address unless `env` says otherwise.
 */
export async function startServerProcess(
  env: Record<string, string> = {},
  options: ServerProcessOptions = {},
): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'homenode-bench-'));
  const port = await freePort();
  const token = options.token ?? `hn_bench_${randomBytes(24).toString('base64url')}`;
  const dbPath = env.HOMENODE_DB ?? join(dir, 'bench.db');
  const pin = options.cpus ? { server: ['taskset', '-c', options.cpus], pinned: true } : pinningPlan();
  const [command = process.execPath, ...prefix] = pin.pinned
    ? [...pin.server, process.execPath]
    : [process.execPath];
  const replicaEnv: Record<string, string> = env.HOMENODE_DATABASE_URL
    ? { HOMENODE_REPLICA_URL: `http://127.0.0.1:${port}`, HOMENODE_DATA_DIR: dir }
    : {};
  const spawnServer = () =>
    spawn(command, [...prefix, '--import', 'tsx', 'enroll-server/main.ts'], {
      env: {
        ...process.env,
        HOMENODE_DB: dbPath,
        HOMENODE_PORT: String(port),
        HOMENODE_BOOTSTRAP_TOKEN: token,
        HOMENODE_LOG_LEVEL: 'warn',
        ...replicaEnv,
        // Simulated nodes join no real cluster: the development cluster values (docs/node-software.md).
        HOMENODE_DEV: '1',
        ...env,
      },
      // HOMENODE_BENCH_SERVER_LOG=1 shows the servers' own log lines (to find why a request failed).
      stdio: ['ignore', process.env.HOMENODE_BENCH_SERVER_LOG === '1' ? 'inherit' : 'ignore', 'inherit'],
    });
  const url = `http://127.0.0.1:${port}`;
  let child = spawnServer();
  await waitReady(url, child, 60_000);
  const stop = async (signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  };
  const server: ServerProcess = {
    pinned: pin.pinned,
    url,
    token,
    dbPath,
    get pid() {
      return child.pid ?? 0;
    },
    get child() {
      return child;
    },
    cpuSeconds() {
      try {
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
        return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ
      } catch {
        return 0;
      }
    },
    peakRssMiB: () => procStatus(child.pid ?? 0, 'VmHWM'),
    rssMiB: () => procStatus(child.pid ?? 0, 'VmRSS'),
    async restart(signal = 'SIGTERM', pauseMs = 0) {
      const t0 = performance.now();
      await stop(signal);
      if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
      const downMs = performance.now() - t0;
      child = spawnServer();
      await waitReady(url, child, 60_000);
      return { downMs, readyMs: performance.now() - t0 };
    },
    stop,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return server;
}
