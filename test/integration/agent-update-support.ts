/**
 * Helpers for the update tests: agent releases of the real shape (build:agent's own code, with the
 * repository's node-pty built for the Node running the tests), broken releases of the same shape
 * (an entry point that crashes or hangs), a release layout under a temp folder, and the real
 * supervisor run as a plain process in front of the real agent.
 */
import { spawn } from 'node:child_process';
import net, { type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { buildAgentRelease, packRelease } from '../../scripts/build-agent.js';
import { AGENT_ARTIFACT, RELEASE_ENTRY, RELEASE_MANIFEST } from '../../protocol/update.js';
import { CLUSTER_STANDINS, type DaemonSetup, FAST_INTERVALS } from './agent-daemon-support.js';
import { ROOT, STANDINS, standInPath } from './agent-support.js';

const RELEASES = mkdtempSync(join(tmpdir(), 'homenode-releases-'));

/** A real release (esbuild bundle, node-pty, release.json) of `version`, built once per run. */
export async function realRelease(version: string): Promise<string> {
  const out = join(RELEASES, `homenode-agent-${version}.tar.gz`);
  await buildAgentRelease({
    version,
    out,
    nodePty: { dir: join(ROOT, 'node_modules/node-pty'), nodeVersion: process.versions.node },
  });
  return out;
}

/** A release of the same shape whose agent does `behaviour` instead of running. */
export async function brokenRelease(version: string, behaviour: 'crash' | 'hang'): Promise<string> {
  const dir = mkdtempSync(join(RELEASES, `broken-${version}-`));
  const entry =
    behaviour === 'crash'
      ? "process.stderr.write('Error: Cannot find module ./missing-piece.js (a broken release)\\n'); process.exit(1);\n"
      : "process.stderr.write('agent starting, then waiting forever\\n'); setInterval(() => {}, 60_000);\n";
  writeFileSync(join(dir, RELEASE_ENTRY), entry);
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(
    join(dir, RELEASE_MANIFEST),
    JSON.stringify({ name: AGENT_ARTIFACT, version, node: process.versions.node, entry: RELEASE_ENTRY }),
  );
  const out = join(RELEASES, `homenode-agent-${version}.tar.gz`);
  await packRelease(dir, out);
  return out;
}

/** `<root>/releases/<version>` unpacked from `file`, and `current` naming it. */
export function releaseRoot(s: DaemonSetup, file: string, version: string): string {
  const root = join(s.dir, 'opt/homenode');
  mkdirSync(join(root, 'releases', version), { recursive: true });
  execFileSync('tar', ['-xzf', file, '-C', join(root, 'releases', version)]);
  symlinkSync(join('releases', version), join(root, 'current'));
  return root;
}

/** The agent's config with the server's release key and fast intervals. */
export async function configureForUpdates(s: DaemonSetup): Promise<void> {
  const key = await s.server.api<{ publicKey: Record<string, string> }>('GET', '/v1/release-key', {
    token: null,
  });
  const config = JSON.parse(readFileSync(s.configPath, 'utf8')) as Record<string, unknown>;
  config.releaseKey = key.body.publicKey;
  config.intervals = { ...FAST_INTERVALS, downloadRetryMs: 50 };
  writeFileSync(s.configPath, JSON.stringify(config));
}

export interface SupervisorProcess {
  output: () => string;
  waitFor(text: string | RegExp, timeoutMs?: number): Promise<void>;
  stop(): Promise<number | null>;
}

/** The real supervisor (agent/update/supervisor-main.ts) running the release layout's agent. */
export function startSupervisor(s: DaemonSetup, root: string, url = s.url): SupervisorProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'agent/update/supervisor-main.ts'),
      '--root',
      root,
      '--',
      'run',
      '--server',
      url,
      '--state-dir',
      s.stateDir,
      '--config',
      s.configPath,
    ],
    {
      cwd: ROOT,
      env: {
        HOME: process.env.HOME ?? tmpdir(),
        PATH: standInPath(CLUSTER_STANDINS, STANDINS.rtx4090),
        NO_COLOR: '1',
        HOMENODE_SUPERVISOR_RESTART_MS: '200',
        HOMENODE_STANDIN_LOG: s.standinLog,
        HOMENODE_STANDIN_STATE: join(s.dir, 'standin-state'),
        HOMENODE_STANDIN_GPUS: join(s.dir, 'gpus.csv'),
        HOMENODE_STANDIN_SYSTEMD_DIR: s.paths.systemdDir,
        HOMENODE_STANDIN_RUNTIME_ROOT: s.paths.runtimeRoot,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    output: () => out,
    waitFor: (text, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        const matches = () => (typeof text === 'string' ? out.includes(text) : text.test(out));
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`the supervisor never printed ${String(text)}:\n${out.slice(-6000)}`));
        }, timeoutMs);
        const check = () => {
          if (!matches()) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve();
        };
        listeners.add(check);
        check();
      }),
    stop: async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await done;
      clearTimeout(timer);
      return code;
    },
  };
}

/** A TCP proxy in front of the server that can be switched off: the node's line goes down. */
export async function startSwitchableProxy(target: string) {
  const { hostname, port } = new URL(target);
  const sockets = new Set<Socket>();
  let blocked = false;
  const server = net.createServer((client) => {
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const local = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${local}`,
    block() {
      blocked = true;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    unblock() {
      blocked = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
