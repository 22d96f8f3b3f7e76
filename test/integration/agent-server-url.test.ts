/**
 * Plain http:// server URLs: allowed to this machine (loopback, as every other test uses), refused
 * to any other machine unless `--allow-insecure-http` / `allowInsecureHttp` says so, and then
 * warned about on the first-boot screens, in `status` and by the daemon. The "other machine" here is
 * 0.0.0.0, which Linux routes to this host, so the real server on 127.0.0.1 answers it while the
 * agent must treat it as not loopback.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { FACTS, fastRetryConfig, runAgent, startAgent, tempDir } from './agent-support.js';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

const RTX4090 = join(FACTS, 'rtx4090.json');

async function setup(): Promise<{ server: TestServer; key: string; dir: string; insecureUrl: string }> {
  const server = await startTestServer();
  cleanup.push(() => server.close());
  const owner = await server.createOwner();
  const { key } = await server.createKey(owner.id);
  return { server, key, dir: tempDir(), insecureUrl: `http://0.0.0.0:${server.port}` };
}

// Several real processes per test: a generous timeout for a loaded machine.
describe('plain http to another machine', { timeout: 90_000 }, () => {
  it('is refused without the switch, saying why and how to allow it; nothing is written', async () => {
    const { key, dir, insecureUrl } = await setup();
    for (const command of [['preflight'], ['enroll', '--key', key, '--facts', RTX4090]]) {
      const run = await runAgent([...command, '--server', insecureUrl, '--state-dir', dir]);
      expect(run.code, run.stderr).toBe(2);
      expect(run.stderr).toContain(`The server URL "${insecureUrl}" uses plain http:// to another machine`);
      expect(run.stderr).toMatch(/would cross the network\s+unencrypted/);
      expect(run.stderr).toContain('--allow-insecure-http, or "allowInsecureHttp": true in the config file');
    }
    expect(existsSync(join(dir, 'identity.json'))).toBe(false);
  });

  it('enrolls with --allow-insecure-http, warning first; status and the daemon warn too', async () => {
    const { server, key, dir, insecureUrl } = await setup();
    const enroll = await runAgent([
      'enroll',
      '--server',
      insecureUrl,
      '--allow-insecure-http',
      '--state-dir',
      dir,
      '--config',
      fastRetryConfig(dir),
      '--facts',
      RTX4090,
      '--key',
      key,
    ]);
    expect(enroll.code, enroll.stdout + enroll.stderr).toBe(0);
    const flat = enroll.stdout.replace(/\s+/g, ' ');
    expect(enroll.stdout.startsWith(`WARNING: insecure connection. ${insecureUrl} is reached`)).toBe(true);
    expect(flat).toContain(
      'the installation key and everything the server sends this machine can be read and changed on the way',
    );
    expect(enroll.stdout.indexOf('WARNING')).toBeLessThan(enroll.stdout.indexOf('Enrolling with'));
    expect(enroll.stdout).toContain('Enrolled: waiting for approval');

    const status = await runAgent(['status', '--state-dir', dir]);
    expect(status.stdout).toContain(`WARNING: insecure connection. ${insecureUrl}`);

    // The daemon takes the URL recorded at enrollment, and the same rule applies to it.
    const refused = await runAgent(['run', '--state-dir', dir]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('uses plain http:// to another machine');
    const config = join(dir, 'insecure.json');
    writeFileSync(
      config,
      JSON.stringify({ allowInsecureHttp: true, paths: { logFile: join(dir, 'agent.log') } }),
    );
    const daemon = startAgent(['run', '--state-dir', dir, '--config', config]);
    cleanup.push(async () => {
      daemon.kill('SIGTERM');
      await daemon.done;
    });
    await daemon.waitFor(`${insecureUrl} is reached over plain http (allowInsecureHttp): not encrypted.`);
    await daemon.waitFor('Status: pending');
    const nodes = await server.api<{ nodes: unknown[] }>('GET', '/v1/nodes');
    expect(nodes.body.nodes).toHaveLength(1);
  });

  it('refuses a serverPin with an http:// URL: no key can be pinned there', async () => {
    const { server, dir } = await setup();
    const config = join(dir, 'pinned.json');
    writeFileSync(config, JSON.stringify({ serverPin: `sha256/${'A'.repeat(43)}=` }));
    const run = await runAgent(['preflight', '--server', server.url, '--config', config, '--state-dir', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `The config sets serverPin, but the server URL "${server.url}" is plain http://`,
    );
  });
});
