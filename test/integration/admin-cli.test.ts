import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { runAdmin } from '../../scripts/admin/cli.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

const exec = promisify(execFile);

describe('operator CLI (npm run admin)', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  /** Runs the CLI in this process against `server`, capturing what it prints. */
  const adminFor =
    (server: TestServer) =>
    async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAdmin(
        argv,
        { url: server.url, token: server.adminToken },
        { out: (t) => out.push(t), err: (t) => err.push(t) },
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };

  async function setup() {
    const server = await startTestServer();
    servers.push(server);
    return { server, admin: adminFor(server) };
  }

  it('creates an owner and a key, lists and approves the node, as tables and as JSON', async () => {
    const { server, admin } = await setup();
    const owner = await admin('owners', 'create', '--email', 'dana@example.com', '--name', 'Dana', '--json');
    expect(owner.code).toBe(0);
    const ownerId = (JSON.parse(owner.out) as { id: string }).id;
    const key = await admin('keys', 'create', '--owner', ownerId, '--max-uses', '2');
    expect(key.code).toBe(0);
    const keyText = /HN-[0-9A-Z]{4}(-[0-9A-Z*~$=]{4}){4}/.exec(key.out)?.[0];
    expect(keyText).toBeDefined();
    expect(key.out).toMatch(/shown only this once/);

    const enrolled = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(keyText!, await newMachine()),
    });
    const list = await admin('nodes', 'list', '--status', 'pending');
    expect(list.out).toMatch(/ID\s+STATUS\s+ONLINE\s+GPUS/);
    expect(list.out).toContain(enrolled.body.nodeId);
    expect(list.out).toContain('1x rtx4090');
    const show = await admin('nodes', 'show', enrolled.body.nodeId);
    expect(show.out).toMatch(/PASS arch/);
    expect(show.out).toContain('akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090=1');
    expect((await admin('approve', enrolled.body.nodeId, '--note', 'ok')).out).toBe(
      `Node ${enrolled.body.nodeId} is now approved.`,
    );
    const audit = await admin('audit', '--target', enrolled.body.nodeId);
    expect(audit.out).toMatch(/token:admin\s+node\.approved/);
    const keys = await admin('keys', 'list', '--owner', ownerId);
    expect(keys.out).toMatch(/active\s+1\s+2/);
    expect((await admin('wireguard-peers')).out).toMatch(/^# No node has joined the overlay yet\.$/m);
    const offline = await admin('command', enrolled.body.nodeId, 'cordon');
    expect([offline.code, offline.err]).toEqual([1, expect.stringContaining('offline')]);
    expect((await admin('command', enrolled.body.nodeId, 'explode')).err).toContain("'type'");
  });

  it('runs a payout week from the command line: rate card, period, compute, lock, verify, export', async () => {
    let now = Date.parse('2026-11-18T12:00:00Z');
    const server = await startTestServer({ now: () => now });
    servers.push(server);
    const dir = mkdtempSync(join(tmpdir(), 'homenode-cli-'));
    const admin = adminFor(server);
    writeFileSync(
      join(dir, 'card.json'),
      JSON.stringify({
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        },
      }),
    );
    expect((await admin('rate-cards', 'add', '--file', join(dir, 'card.json'))).out).toBe(
      'Rate card version 1 in force from 2026-11-01T00:00:00.000Z',
    );
    const created = await admin('payouts', 'create', '--week', '2026-11-18', '--json');
    const period = JSON.parse(created.out) as { id: string; start: string; end: string };
    expect([period.start, period.end]).toEqual(['2026-11-16T00:00:00.000Z', '2026-11-23T00:00:00.000Z']);
    expect((await admin('payouts', 'compute', period.id)).out).toMatch(
      /computed, rate card 1[\s\S]*Total \$0\.000000 over 0 node\(s\)/,
    );
    expect((await admin('payouts', 'lock', period.id)).err).toContain('409 PERIOD_NOT_ENDED');
    now = Date.parse('2026-11-23T00:05:00Z');
    expect((await admin('payouts', 'lock', period.id)).out).toMatch(/locked, rate card 1, hash [0-9a-f]{64}/);
    expect((await admin('payouts', 'verify', period.id)).out).toMatch(
      /^OK: recomputed hash [0-9a-f]{64} matches$/,
    );
    const file = join(dir, 'week.csv');
    expect((await admin('payouts', 'export', period.id, '--out', file)).out).toMatch(
      /^Wrote \d+ bytes of CSV to /,
    );
    expect(readFileSync(file, 'utf8')).toMatch(/^period_id,period_start,period_end,node_id/);
    expect((await admin('payouts', 'list')).out).toContain(`${period.id}  2026-11-16T00:00:00.000Z`);
    expect((await admin('payouts', 'create', '--week', 'someday')).err).toContain('--week must be a date');
  });

  it('explains usage errors and API errors with exit codes 2 and 1', async () => {
    const { admin } = await setup();
    const help = await admin('--help');
    expect([help.code, help.out]).toEqual([0, expect.stringContaining('keys create')]);
    const unknown = await admin('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Unknown command "frobnicate"');
    const missing = await admin('reject', 'node_x');
    expect([missing.code, missing.err]).toEqual([2, expect.stringContaining('Missing --reason')]);
    const notFound = await admin('approve', 'node_nope');
    expect([notFound.code, notFound.err]).toEqual([1, expect.stringContaining('404 NOT_FOUND')]);
    expect((await admin('reject', '--help')).out).toContain('--reason VALUE (required)');
  });

  it('runs as a real process with HOMENODE_URL and HOMENODE_TOKEN', async () => {
    const { server } = await setup();
    const { stdout } = await exec(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', 'me'], {
      env: { ...process.env, HOMENODE_URL: server.url, HOMENODE_TOKEN: server.adminToken },
      timeout: 20_000,
    });
    expect(stdout).toMatch(/role\s+admin/);
    const failed = await exec(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', 'me'], {
      env: { ...process.env, HOMENODE_URL: server.url, HOMENODE_TOKEN: 'hn_wrong' },
      timeout: 20_000,
    }).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1, stderr: expect.stringContaining('401 UNAUTHENTICATED') });
  });
});
