/**
 * What the agent trusts in a `join`: the config it writes for a valid join passes the real
 * wireguard-tools (`wg-quick strip`, then `wg setconf`'s parser), and a `join` altered by a man in
 * the middle (a newline and a `PostUp` line) is refused: no key made, no file written, no program
 * run, and the server hears why (a `join-failed` flag for ops).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DaemonSetup, TEST_HUB_PUBLIC_KEY, setupDaemon, startRelay } from './agent-daemon-support.js';
import { FIXTURES, tempDir } from './agent-support.js';

let setups: DaemonSetup[] = [];
let extra: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of extra.reverse()) await fn();
  for (const s of setups) await s.cleanup();
  setups = [];
  extra = [];
});

const poll = { timeout: 20_000, interval: 50 };

/** The real program (never a stand-in from test/fixtures), or a failure that names the package. */
function realTool(name: string, debianPackage: string): string {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir || dir.startsWith(FIXTURES)) continue;
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`${name} is not installed: apt-get install -y ${debianPackage}`);
}

/** Runs a real tool with a timeout; as non-root, wg-quick runs in a user namespace (it would ask sudo). */
function run(argv: string[], cwd: string) {
  const [program = '', ...args] =
    process.getuid?.() === 0 ? argv : ['unshare', '--user', '--map-root-user', ...argv];
  const result = spawnSync(program, args, {
    cwd,
    encoding: 'utf8',
    timeout: 15_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (result.error) throw new Error(`${argv.join(' ')} could not run: ${result.error.message}`);
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function joinedSetup() {
  const s = await setupDaemon();
  setups.push(s);
  const agent = s.start();
  await agent.waitFor('Status: pending', 20_000);
  await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
  await expect.poll(async () => (await s.node()).status, poll).toBe('active');
  return s;
}

// Several real processes per test: a generous timeout for a loaded machine.
describe('the join the agent writes, judged by wireguard-tools', { timeout: 90_000 }, () => {
  it('passes the real wg-quick strip and wg setconf for a valid join', async () => {
    const wgQuick = realTool('wg-quick', 'wireguard-tools');
    const wg = realTool('wg', 'wireguard-tools');
    const s = await joinedSetup();
    const written = join(s.paths.wireguardDir, 'hn0.conf');
    const dir = tempDir('homenode-wgtest-');
    copyFileSync(written, join(dir, 'wgtest0.conf')); // keeps the agent's 0600

    const stripped = run([wgQuick, 'strip', './wgtest0.conf'], dir);
    expect(stripped.stderr).toBe('');
    expect(stripped.code).toBe(0);
    // strip keeps what `wg` reads and drops wg-quick's own keys (Address). The private key is the
    // one the `wg genkey` stand-in printed.
    expect(stripped.stdout).toBe(
      [
        '# Written by the Home Node agent from the server\'s "join" message. Do not edit.',
        '[Interface]',
        'PrivateKey = YAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=',
        '',
        '[Peer]',
        `PublicKey = ${TEST_HUB_PUBLIC_KEY}`,
        'Endpoint = 127.0.0.1:51820',
        'AllowedIPs = 100.64.0.0/10',
        'PersistentKeepalive = 25',
        '',
        '',
      ].join('\n'),
    );
    expect(stripped.stdout).not.toContain('Address');

    // `wg setconf` parses the whole file before it looks for the interface: on a name that does not
    // exist, a good file fails only at "Unable to modify interface", a bad one at parsing.
    const strippedPath = join(dir, 'stripped.conf');
    writeFileSync(strippedPath, stripped.stdout, { mode: 0o600 });
    const set = spawnSync(wg, ['setconf', 'hnnosuch0', strippedPath], { encoding: 'utf8', timeout: 10_000 });
    expect(set.stderr).not.toMatch(/parsing error|not the correct length|Line unrecognized/);
    expect(set.stderr).toMatch(/Unable to modify interface/);

    // The same check catches what the server's development default would have produced.
    const badPath = join(dir, 'bad.conf');
    const devKey = 'DEVhubPublicKeyDEVhubPublicKeyDEVhubPubKE=';
    writeFileSync(badPath, stripped.stdout.replace(TEST_HUB_PUBLIC_KEY, devKey), { mode: 0o600 });
    const bad = spawnSync(wg, ['setconf', 'hnnosuch0', badPath], { encoding: 'utf8', timeout: 10_000 });
    expect(bad.stderr).toMatch(/Key is not the correct length or format/);
  });
});

// Several real processes per test: a generous timeout for a loaded machine.
describe('a join altered on the way (man in the middle of an http:// link)', { timeout: 90_000 }, () => {
  it('is refused: no key, no file, no wg-quick or k3s; the server flags join-failed with the reason', async () => {
    const s = await setupDaemon();
    setups.push(s);
    const relay = await startRelay(s.server.url, (text) => {
      const frame = JSON.parse(text) as { type: string; network?: { hubEndpoint: string } };
      if (frame.type !== 'join' || !frame.network) return text;
      frame.network.hubEndpoint += '\nPostUp = touch /tmp/homenode-pwned';
      return JSON.stringify(frame);
    });
    extra.push(() => relay.close());
    s.useUrl(relay.url);
    const agent = s.start();
    await agent.waitFor('Status: pending', 20_000);
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });

    await expect
      .poll(async () => (await s.node()).flags.find((f) => f.kind === 'join-failed')?.message, poll)
      .toMatch(
        /The join message was refused and nothing was changed: network\.hubEndpoint must be host:port/,
      );
    await agent.waitFor(/The join message was refused/, 20_000);
    expect((await s.node()).status).toBe('approved');
    const files = existsSync(s.paths.wireguardDir) ? readdirSync(s.paths.wireguardDir) : [];
    expect(files).toEqual([]);
    expect(existsSync(s.paths.k3sConfigPath)).toBe(false);
    expect(s.calls().filter((c) => /^(wg|wg-quick|systemctl|k3s) /.test(c))).toEqual([]);
    expect(readFileSync(s.paths.logFile, 'utf8')).toMatch(/error join_refused The join message was refused/);
  });
});
