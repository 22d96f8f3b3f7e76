/**
 * Helpers for the agent's integration tests: run the real agent as a child process with stand-in
 * programs first on PATH, temp state dirs, and an HTTP proxy that can drop, delay or refuse.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

export const ROOT = join(import.meta.dirname, '../..');
export const FIXTURES = join(ROOT, 'test/fixtures/agent');
export const FACTS = join(FIXTURES, 'facts');
export const STANDINS = {
  rtx4090: join(FIXTURES, 'bin-rtx4090'),
  nodriver: join(FIXTURES, 'bin-nodriver'),
  nogpu: join(FIXTURES, 'bin-nogpu'),
};

export function tempDir(prefix = 'homenode-agent-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** PATH with the stand-ins first and any real nvidia-smi / lspci removed, so the host does not leak in. */
export function standInPath(...dirs: string[]): string {
  const host = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((d) => d && !existsSync(join(d, 'nvidia-smi')) && !existsSync(join(d, 'lspci')));
  return [...dirs, ...host].join(delimiter);
}

/** A config file with fast retries, so tests that exercise backoff stay short. */
export function fastRetryConfig(
  dir: string,
  retry = { maxAttempts: 8, baseDelayMs: 200, maxDelayMs: 800 },
): string {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ retry }));
  return path;
}

export interface AgentRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface AgentProcess {
  done: Promise<AgentRun>;
  /** Resolves once stdout contains `text`. */
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

export const AGENT_ARGS = ['--import', 'tsx', join(ROOT, 'agent/main.ts')];

export function startAgent(
  args: string[],
  options: { env?: Record<string, string>; path?: string } = {},
): AgentProcess {
  const child = spawn(process.execPath, [...AGENT_ARGS, ...args], {
    cwd: ROOT,
    env: {
      HOME: process.env.HOME ?? tmpdir(),
      PATH: options.path ?? standInPath(),
      NO_COLOR: '1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const listener of listeners) listener();
  });
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  const done = new Promise<AgentRun>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const waitFor = (text: string | RegExp, timeoutMs = 20_000) =>
    new Promise<void>((resolve, reject) => {
      const matches = () => (typeof text === 'string' ? stdout.includes(text) : text.test(stdout));
      const timer = setTimeout(
        () => reject(new Error(`agent never printed ${String(text)}:\n${stdout}\n${stderr}`)),
        timeoutMs,
      );
      const check = () => {
        if (!matches()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });
  return { done, waitFor, kill: (signal) => void child.kill(signal) };
}

export function runAgent(
  args: string[],
  options: { env?: Record<string, string>; path?: string } = {},
): Promise<AgentRun> {
  return startAgent(args, options).done;
}

export interface ProxyRequestLog {
  method: string;
  path: string;
  at: number;
  /** What the agent got: the server's status, or what the proxy did instead. */
  outcome: number | 'dropped-after-server' | 'reset' | 'injected';
}

export type ProxyRule = (req: {
  method: string;
  path: string;
  index: number;
}) =>
  | { action: 'forward' }
  | { action: 'reset' }
  | { action: 'drop-after-server' }
  | { action: 'respond'; status: number; headers?: Record<string, string>; body?: string };

/**
 * An HTTP proxy in front of the server. `rule` decides per request: forward, reset the connection
 * before the server sees it, forward then cut the agent off before relaying the answer, or answer itself.
 */
export async function startProxy(target: string, rule: ProxyRule, port = 0) {
  const log: ProxyRequestLog[] = [];
  const counts = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const path = req.url ?? '/';
    const key = `${req.method} ${path}`;
    const index = counts.get(key) ?? 0;
    counts.set(key, index + 1);
    const entry: ProxyRequestLog = { method: req.method ?? '', path, at: Date.now(), outcome: 'reset' };
    log.push(entry);
    const decision = rule({ method: req.method ?? '', path, index });
    if (decision.action === 'reset') {
      req.socket.destroy();
      return;
    }
    if (decision.action === 'respond') {
      entry.outcome = 'injected';
      res.writeHead(decision.status, decision.headers).end(decision.body ?? '');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const upstream = http.request(
        new URL(path, target),
        { method: req.method, headers: req.headers },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (decision.action === 'drop-after-server') {
              entry.outcome = 'dropped-after-server';
              req.socket.destroy();
              return;
            }
            entry.outcome = answer.statusCode ?? 0;
            res.writeHead(answer.statusCode ?? 502, answer.headers).end(Buffer.concat(body));
          });
        },
      );
      upstream.on('error', () => req.socket.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    log,
    enrollRequests: () => log.filter((l) => l.method === 'POST' && l.path === '/v1/enroll'),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that nothing listens on (just released), for "the server is down". */
export async function freePort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
