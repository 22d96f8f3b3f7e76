/**
 * The software `npm run test:iso` publishes on its server (docs/node-software.md): a fixed release
 * key made before the ISO is built (the image carries its public half, the server signs with it),
 * a stand-in k3s uploaded as the `k3s` artifact with the operator CLI, and the booted ISO itself
 * uploaded as `homenode-iso` and downloaded again from `/download/homenode.iso`.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { loadSigningKey } from '../../enroll-server/core/signing-key.js';
import { AGENT_ARTIFACT, RELEASE_ENTRY, RELEASE_MANIFEST } from '../../protocol/update.js';
import { packRelease } from '../../scripts/build-agent.js';
import { NODE_RUNTIME } from '../../scripts/node-runtime.js';
import { ADMIN_TOKEN, ROOT, type EnrollServer } from './enroll-server-process.js';

export interface TestReleaseKey {
  /** The private JWK (mode 0600): the server's HOMENODE_RELEASE_KEY_FILE. */
  privateFile: string;
  /** Its public half only: build:iso --release-key. */
  publicFile: string;
  x: string;
}

/**
 * The test's release key, kept in `dist/` between runs (made on the first), so that `--reuse`
 * keeps reusing the ISO built with it; a new key changes the inputs digest and rebuilds.
 */
export async function testReleaseKey(): Promise<TestReleaseKey> {
  const privateFile = join(ROOT, 'dist/iso-test-release-key.json');
  const publicFile = join(ROOT, 'dist/iso-test-release-key.pub.json');
  await mkdir(dirname(privateFile), { recursive: true });
  const key = await loadSigningKey(privateFile, { create: true, what: 'The test release key' });
  await writeFile(publicFile, `${JSON.stringify({ publicKey: key.publicJwk })}\n`);
  return { privateFile, publicFile, x: key.publicJwk.x };
}

export const K3S_VERSION = 'v1.31.4+k3s1';
/** What the uploaded k3s prints on the serial console when the (stand-in) systemd starts it. */
export const K3S_STARTED = `k3s stand-in ${K3S_VERSION} (the uploaded artifact) started:`;

/**
 * The k3s the test uploads: a script that, started as `k3s agent --config FILE`, says so on the
 * serial console and exits (the systemctl stand-in runs the unit's ExecStart and waits), followed by
 * ~200 kB of random comment lines after its `exit` (bash never reads them): bytes unlike the image's
 * own k3s stand-in, so the join must download them.
 */
export function standInK3s(): Buffer {
  const script = [
    '#!/usr/bin/env bash',
    `# Stand-in for k3s ${K3S_VERSION}, uploaded as the k3s artifact by test/iso (npm run test:iso).`,
    `{ printf '\\n%s %s\\n' '${K3S_STARTED}' "$*" > /dev/ttyS0; } 2>/dev/null || true`,
    `echo 'time="2026-11-02T09:58:03Z" level=info msg="Starting k3s agent ${K3S_VERSION} (a562d090)"'`,
    'exit 0',
    '',
  ].join('\n');
  const padding = randomBytes(150 * 1024)
    .toString('base64')
    .replace(/(.{76})/g, '# $1\n');
  return Buffer.from(script + padding);
}

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface Uploaded {
  name: string;
  version: string;
  sha256: string;
  size: number;
}

/** `npm run admin -- --json artifacts upload --name N --version V FILE`, the operator's way. */
export function adminUpload(
  server: EnrollServer,
  name: string,
  version: string,
  file: string,
): Promise<Uploaded> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'scripts/admin.ts'),
        '--json',
        'artifacts',
        'upload',
        '--name',
        name,
        '--version',
        version,
        file,
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOMENODE_URL: server.url,
          HOMENODE_TOKEN: ADMIN_TOKEN,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => void (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => void (err += c.toString()));
    const timer = setTimeout(() => child.kill('SIGTERM'), 5 * 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) {
        reject(
          new Error(
            `npm run admin -- artifacts upload --name ${name} failed (${code ?? signal}): ${err}${out}`,
          ),
        );
        return;
      }
      try {
        resolve(JSON.parse(out) as Uploaded);
      } catch {
        reject(new Error(`npm run admin -- artifacts upload printed no JSON: ${out}`));
      }
    });
  });
}

/** GET `path` without credentials; the SHA-256 and length of the body, streamed. */
export async function downloadSha256(
  server: EnrollServer,
  path: string,
): Promise<{ status: number; sha256: string; bytes: number; headers: Headers }> {
  const res = await fetch(server.url + path);
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = res.body?.getReader();
  for (;;) {
    const chunk = await reader?.read();
    if (!chunk || chunk.done) break;
    hash.update(chunk.value);
    bytes += chunk.value.length;
  }
  return { status: res.status, sha256: hash.digest('hex'), bytes, headers: res.headers };
}

/**
 * An agent release whose entry point crashes at start (the shape build:agent makes, no node-pty:
 * it never gets that far): the update the VM must roll back by itself.
 */
export async function crashingRelease(version: string, dir: string): Promise<string> {
  const content = join(dir, `broken-${version}`);
  mkdirSync(content, { recursive: true });
  writeFileSync(
    join(content, RELEASE_ENTRY),
    "process.stderr.write('Error: Cannot find module ./missing-piece.js (a broken release)\\n'); process.exit(1);\n",
  );
  writeFileSync(join(content, 'package.json'), '{ "type": "module", "private": true }\n');
  writeFileSync(
    join(content, RELEASE_MANIFEST),
    JSON.stringify({ name: AGENT_ARTIFACT, version, node: NODE_RUNTIME.version, entry: RELEASE_ENTRY }),
  );
  const out = join(dir, `homenode-agent-${version}.tar.gz`);
  await packRelease(content, out);
  return out;
}
