/**
 * The real enroll-server (`enroll-server/main.ts`, as `npm start` runs it) on 127.0.0.1:8080 with a
 * temp database, the bootstrap admin token, a policy a 2 GiB VM passes and the release key the test
 * ISO was built with; plus a small API client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const ADMIN_TOKEN = 'hn_iso-test-admin-token-0123456789abcdefghijkl';
export const PORT = 8080;

export interface EnrollServer {
  url: string;
  /** The data folder (database, artifacts under artifacts/sha256/<hex>). */
  dataDir: string;
  api<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  output(): string;
  stop(): Promise<void>;
}

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** `releaseKeyFile`: the private release key (mode 0600) whose public half the ISO carries. */
export async function startEnrollServer(releaseKeyFile: string): Promise<EnrollServer> {
  if (await portInUse(PORT)) {
    throw new Error(
      `127.0.0.1:${PORT} is taken. The ISO under test is built for http://10.0.2.2:${PORT} (the host's loopback as QEMU's guest sees it); stop whatever listens there.`,
    );
  }
  const dir = mkdtempSync(join(tmpdir(), 'homenode-iso-server-'));
  // A VM with 2 GiB, 2 vCPUs and no GPU of its own (the test image has stand-in nvidia-smi/lspci).
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ minMemoryBytes: 1024 ** 3, minDiskBytes: 0, minCores: 1 }));
  let out = '';
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'enroll-server/main.ts')],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        HOMENODE_HOST: '127.0.0.1',
        HOMENODE_PORT: String(PORT),
        HOMENODE_PUBLIC_URL: `http://10.0.2.2:${PORT}`,
        HOMENODE_DB: join(dir, 'homenode.db'),
        HOMENODE_BOOTSTRAP_TOKEN: ADMIN_TOKEN,
        HOMENODE_POLICY: policy,
        HOMENODE_RELEASE_KEY_FILE: releaseKeyFile,
        HOMENODE_LOG_LEVEL: 'warn',
        // The VM joins no real cluster: the development cluster values (docs/node-software.md).
        HOMENODE_DEV: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  // Never outlive the test run (a killed run must not leave port 8080 taken).
  process.once('exit', () => child.kill('SIGKILL'));
  child.stdout?.on('data', (c: Buffer) => void (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => void (out += c.toString()));
  const url = `http://127.0.0.1:${PORT}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the enroll-server exited (${child.exitCode}):\n${out}`);
    const ok = await fetch(`${url}/v1/policy`).then(
      (r) => r.status < 500,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`the enroll-server did not answer within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 300));
  }
  return {
    url,
    dataDir: dir,
    output: () => out,
    async api<T>(method: string, path: string, body?: unknown) {
      const res = await fetch(url + path, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as T };
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
