import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../scripts/admin/cli.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

describe('backup and restore', () => {
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
    dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  const cli = async (server: TestServer | undefined, ...argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdmin(
      argv,
      { url: server?.url, token: server?.adminToken },
      { out: (t) => out.push(t), err: (t) => err.push(t) },
    );
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('backs up the live database over the API and restores it into a server that finds everything', async () => {
    const server = await startTestServer();
    servers.push(server);
    const owner = await server.createOwner('backup@example.com', 'Backed Up');
    const { nodeId } = (
      await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await server.createKey(owner.id)).key, await newMachine()),
      })
    ).body;
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: { note: 'before backup' } });
    const dir = mkdtempSync(join(tmpdir(), 'homenode-backup-'));
    dirs.push(dir);
    const file = join(dir, 'backup.db');

    const backup = await cli(server, 'backup', file);
    expect(backup.code).toBe(0);
    expect(backup.out).toMatch(/^Wrote a \d+-byte backup to /);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(
      (await server.api<{ entries: { action: string }[] }>('GET', '/v1/audit?action=backup.created')).body
        .entries,
    ).toHaveLength(1);
    // Non-admins may not take backups.
    expect(
      (await server.api('GET', '/v1/admin/backup', { token: await server.tokenFor('ops') })).status,
    ).toBe(403);

    // Disaster: a new machine. Restore into a fresh path, start a server on it.
    const target = join(dir, 'restored', 'homenode.db');
    rmSync(join(dir, 'restored'), { recursive: true, force: true });
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'restored'));
    const restore = await cli(undefined, 'restore', file, '--db', target);
    expect(restore.code).toBe(0);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(restore.out).toMatch(/Restored .* \(schema \d+, 1 owners, 1 nodes\)/);
    const restored = await startTestServer({ dbPath: target });
    servers.push(restored);
    const detail = await restored.api<{ status: string; ownerId: string }>('GET', `/v1/nodes/${nodeId}`);
    expect(detail.body).toMatchObject({ status: 'approved', ownerId: owner.id });
    expect(
      (await restored.api<{ owners: { email: string }[] }>('GET', '/v1/owners')).body.owners.map(
        (o) => o.email,
      ),
    ).toEqual(['backup@example.com']);
  });

  it('says what to do when the folder to restore into does not exist (no raw ENOENT), and creates nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homenode-backup-'));
    dirs.push(dir);
    const server = await startTestServer();
    servers.push(server);
    const file = join(dir, 'good.db');
    expect((await cli(server, 'backup', file)).code).toBe(0);
    const missing = join(dir, 'no-such-folder');
    const result = await cli(undefined, 'restore', file, '--db', join(missing, 'homenode.db'));
    expect(result.code).toBe(1);
    expect(result.err).not.toMatch(/ENOENT/);
    expect(result.err).toContain(`The folder ${missing} does not exist`);
    expect(result.err).toContain('Check --db');
    expect(result.err).toContain(`mkdir -p -m 700 ${missing}`);
    expect(existsSync(missing)).toBe(false);
  });

  it('refuses a damaged backup and will not overwrite a database without --force', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homenode-backup-'));
    dirs.push(dir);
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'this is not a database at all, just some text that is long enough'.repeat(100));
    const bad = await cli(undefined, 'restore', junk, '--db', join(dir, 'x.db'));
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/not a database|damaged/);
    expect(existsSync(join(dir, 'x.db'))).toBe(false);

    const server = await startTestServer();
    servers.push(server);
    const file = join(dir, 'good.db');
    await cli(server, 'backup', file);
    writeFileSync(join(dir, 'live.db'), 'existing');
    const refused = await cli(undefined, 'restore', file, '--db', join(dir, 'live.db'));
    expect([refused.code, refused.err]).toEqual([1, expect.stringContaining('--force')]);
    expect((await cli(undefined, 'restore', file, '--db', join(dir, 'live.db'), '--force')).code).toBe(0);
  });
});
