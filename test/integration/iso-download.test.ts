/**
 * The installer for home users: ops upload the ISO with the real operator CLI, anyone downloads the
 * newest one at /download/homenode.iso with its checksum beside it, and the real `sha256sum -c`
 * (coreutils) accepts the pair; one address cannot hold more downloads open than the limit.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../scripts/admin/cli.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { tempDir } from './agent-support.js';
import { download, randomFile, sha256 } from './artifact-support.js';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function admin(server: TestServer, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdmin(
    argv,
    { url: server.url, token: server.adminToken },
    { out: (t) => out.push(t), err: (t) => err.push(t) },
  );
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function sha256sumCheck(dir: string) {
  const result = spawnSync('sha256sum', ['-c', 'homenode.iso.sha256'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 15_000,
  });
  if (result.error)
    throw new Error(`sha256sum could not run (apt-get install -y coreutils): ${result.error.message}`);
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('GET /download/homenode.iso', () => {
  it('says who to ask while no ISO was published', async () => {
    const server = await startTestServer();
    servers.push(server);
    expect((await server.api('GET', '/v1/downloads', { token: null })).body).toEqual({ iso: null });
    const none = await download(`${server.url}/download/homenode.iso`, null);
    expect(none.status).toBe(404);
    expect(none.json?.error.message).toMatch(
      /No Home Node installer image has been published .* Ask the operations team/,
    );
    expect((await download(`${server.url}/download/homenode.iso.sha256`, null)).status).toBe(404);
  });

  it('serves the newest ISO uploaded with the CLI, and sha256sum -c accepts its checksum file', async () => {
    const server = await startTestServer();
    servers.push(server);
    const dir = tempDir('homenode-iso-dl-');
    const older = randomFile(200_000);
    const image = randomFile(1_500_000);
    writeFileSync(join(dir, 'older.iso'), older);
    writeFileSync(join(dir, 'build.iso'), image);
    const first = await admin(
      server,
      'artifacts',
      'upload',
      '--name',
      'homenode-iso',
      '--version',
      '2026.11.30',
      join(dir, 'older.iso'),
    );
    expect(first.code).toBe(0);
    const uploaded = await admin(
      server,
      'artifacts',
      'upload',
      '--name',
      'homenode-iso',
      '--version',
      '2026.12.1',
      join(dir, 'build.iso'),
    );
    expect(uploaded.err).toBe('');
    expect(uploaded.out).toContain('Uploaded homenode-iso 2026.12.1 (1.5 MB), signed by the release key.');
    expect(uploaded.out).toContain(sha256(image));
    const listed = await admin(server, 'artifacts', 'list');
    expect(
      listed.out
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 2).join(' ')),
    ).toEqual(['homenode-iso 2026.12.1', 'homenode-iso 2026.11.30']);
    const again = await admin(
      server,
      'artifacts',
      'upload',
      '--name',
      'homenode-iso',
      '--version',
      '2026.12.1',
      join(dir, 'older.iso'),
    );
    expect([again.code, again.err]).toEqual([1, expect.stringContaining('Error 409 ARTIFACT_EXISTS')]);

    const info = await server.api<{ iso: Record<string, unknown> }>('GET', '/v1/downloads', { token: null });
    expect(info.body.iso).toMatchObject({
      version: '2026.12.1',
      sha256: sha256(image),
      size: image.length,
      url: '/download/homenode.iso',
      checksumUrl: '/download/homenode.iso.sha256',
    });

    const got = await download(`${server.url}/download/homenode.iso`, null);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-disposition')).toBe('attachment; filename="homenode.iso"');
    expect(got.headers.get('content-length')).toBe(String(image.length));
    expect(got.headers.get('x-homenode-iso-version')).toBe('2026.12.1');
    const sum = await download(`${server.url}/download/homenode.iso.sha256`, null);
    expect(sum.bytes.toString()).toBe(`${sha256(image)}  homenode.iso\n`);
    const out = tempDir('homenode-iso-check-');
    writeFileSync(join(out, 'homenode.iso'), got.bytes);
    writeFileSync(join(out, 'homenode.iso.sha256'), sum.bytes);
    expect(sha256sumCheck(out)).toEqual({ code: 0, out: 'homenode.iso: OK\n' });
    // One flipped byte and the real tool says so.
    const damaged = Buffer.from(got.bytes);
    damaged[1000] = (damaged[1000] ?? 0) ^ 0xff;
    writeFileSync(join(out, 'homenode.iso'), damaged);
    expect(sha256sumCheck(out).code).toBe(1);

    const part = await download(`${server.url}/download/homenode.iso`, null, { range: 'bytes=1000000-' });
    expect([part.status, part.bytes.equals(image.subarray(1_000_000))]).toEqual([206, true]);
  });

  it('lets one address hold only so many downloads open at once', async () => {
    const server = await startTestServer({ artifacts: { downloadsPerAddress: 1 } });
    servers.push(server);
    const dir = tempDir('homenode-iso-slots-');
    // Larger than the socket buffers, so an unread answer stays open.
    writeFileSync(join(dir, 'big.iso'), randomFile(24 * 1024 * 1024));
    expect(
      (
        await admin(
          server,
          'artifacts',
          'upload',
          '--name',
          'homenode-iso',
          '--version',
          '1',
          join(dir, 'big.iso'),
        )
      ).code,
    ).toBe(0);
    const reader = new AbortController();
    const held = await fetch(`${server.url}/download/homenode.iso`, { signal: reader.signal });
    expect(held.status).toBe(200);
    const second = await download(`${server.url}/download/homenode.iso`, null);
    expect([second.status, second.headers.get('retry-after')]).toEqual([429, '30']);
    expect(second.json?.error.message).toMatch(/1 downloads are already running from here/);
    reader.abort();
    await expect
      .poll(async () => (await fetch(`${server.url}/download/homenode.iso`, { method: 'HEAD' })).status, {
        timeout: 20_000,
      })
      .toBe(200);
  });
});
