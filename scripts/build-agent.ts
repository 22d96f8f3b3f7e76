/**
 * `npm run build:agent -- --version V --out FILE`: one agent release (docs/updates.md), the file
 * uploaded as the `homenode-agent` artifact and unpacked by a node into
 * `/opt/homenode/releases/<V>/`. It is a gzip'd tar of:
 *   homenode-agent.mjs     the agent bundled by esbuild (as in the ISO)
 *   node_modules/node-pty  node-pty's JavaScript and its native module for the image's Node 24
 *   package.json           `{ "type": "module" }`
 *   release.json           `{ name: "homenode-agent", version, node, entry }` (the agent's version)
 *
 * Options: `--cache-dir DIR` (the Node runtime and node-pty builds, as build:iso), `--node-pty DIR`
 * (use a node-pty package folder already built, with `--node-version` the Node it was built for;
 * tests use the repository's own, built for the Node running them).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { bundleAgent, writeReleaseManifest } from '../iso-builder/bundle-agent.js';
import { buildNodePty } from '../iso-builder/node-pty.js';
import { AGENT_ARTIFACT, type ReleaseManifest } from '../protocol/update.js';
import { ensureNodeRuntime } from './node-runtime.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = /^[A-Za-z0-9.+~_-]{1,64}$/;

export interface BuildAgentOptions {
  version: string;
  out: string;
  /** A built node-pty package folder and the Node version it is for; otherwise built for Node 24. */
  nodePty?: { dir: string; nodeVersion: string };
  cacheDir?: string;
  log?: (line: string) => void;
}

/** Packs a release folder into `out` as build:agent does (sorted, owner 0, fixed mode bits). */
export async function packRelease(dir: string, out: string): Promise<void> {
  await execa('tar', [
    '--sort=name',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=go-w',
    '-czf',
    resolve(out),
    '-C',
    dir,
    '.',
  ]);
}

export async function buildAgentRelease(o: BuildAgentOptions): Promise<ReleaseManifest> {
  if (!VERSION.test(o.version) || o.version === '.' || o.version === '..')
    throw new Error(
      `--version ${o.version} is not a release version: letters, digits, ".", "+", "~", "_" and "-", at most 64.`,
    );
  const log = o.log ?? (() => {});
  let pty = o.nodePty;
  if (!pty) {
    const cacheDir = o.cacheDir ?? join(homedir(), '.cache/homenode');
    const runtime = await ensureNodeRuntime({ cacheDir, log });
    const built = await buildNodePty(REPO, runtime, cacheDir, log);
    pty = { dir: built.dir, nodeVersion: runtime.version };
  }
  const work = await mkdtemp(join(tmpdir(), 'homenode-agent-release-'));
  try {
    log('bundling the agent (esbuild)');
    await bundleAgent(REPO, work, pty.dir);
    const manifest = await writeReleaseManifest(work, o.version, pty.nodeVersion);
    await packRelease(work, o.out);
    log(`wrote ${o.out}`);
    return manifest;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      version: { type: 'string' },
      out: { type: 'string' },
      'cache-dir': { type: 'string' },
      'node-pty': { type: 'string' },
      'node-version': { type: 'string' },
    },
  });
  if (!values.version || !values.out) {
    process.stderr.write(
      'Usage: npm run build:agent -- --version V --out FILE [--cache-dir DIR] [--node-pty DIR --node-version N]\n',
    );
    return 2;
  }
  const manifest = await buildAgentRelease({
    version: values.version,
    out: values.out,
    ...(values['node-pty']
      ? {
          nodePty: {
            dir: resolve(values['node-pty']),
            nodeVersion: values['node-version'] ?? process.versions.node,
          },
        }
      : {}),
    ...(values['cache-dir'] ? { cacheDir: values['cache-dir'] } : {}),
    log: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(
    `Agent release ${manifest.version} (node-pty for Node ${manifest.node}): ${values.out}\n` +
      `Upload it: npm run admin -- artifacts upload --name ${AGENT_ARTIFACT} --version ${manifest.version} ${values.out}\n`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`build:agent failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
