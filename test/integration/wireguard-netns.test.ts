/**
 * The overlay for real, in two network namespaces joined by a veth pair (root, no KVM, no kernel
 * module needed: wg-quick falls back to Debian's wireguard-go). The hub is configured the way
 * docs/node-software.md tells ops to: its own `[Interface]` (`wg-quick strip`) plus the server's
 * peers export, loaded with `wg syncconf`. The node is the real agent: approved, it applies the
 * server's join with the real `wg` and `wg-quick` run inside the node namespace. Then a ping
 * crosses the overlay both ways. Namespaces are removed in `finally`; a missing tool fails at once
 * naming its Debian package.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type DaemonSetup, FAST_INTERVALS, setupDaemon } from './agent-daemon-support.js';
import { FIXTURES, tempDir } from './agent-support.js';

let setups: DaemonSetup[] = [];
afterEach(async () => {
  for (const s of setups) await s.cleanup();
  setups = [];
});

/** The real program (never a stand-in from test/fixtures), or a failure that names the package. */
function realTool(name: string, debianPackage: string): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (!dir || dir.startsWith(FIXTURES)) continue;
    const path = join(dir, name);
    if (existsSync(path)) return path;
  }
  throw new Error(`${name} is not installed: apt-get install -y ${debianPackage}`);
}

/** Runs a tool with a bound; a failure throws with its output (what the test log needs). */
function sh(argv: string[], input?: string): string {
  const [program = '', ...args] = argv;
  const result = spawnSync(program, args, {
    encoding: 'utf8',
    timeout: 20_000,
    ...(input === undefined ? { stdio: ['ignore', 'pipe', 'pipe'] } : { input }),
  });
  if (result.error) throw new Error(`${argv.join(' ')} could not run: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `${argv.join(' ')} exited ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`,
    );
  }
  return result.stdout;
}

const poll = { timeout: 60_000, interval: 100 };

describe('the WireGuard overlay between two network namespaces', { timeout: 150_000 }, () => {
  it('the hub from the peers export, the node from the real agent: a ping crosses the overlay both ways', async () => {
    if (process.getuid?.() !== 0) {
      throw new Error('This test creates network namespaces (ip netns add) and needs root, as in CI.');
    }
    const ip = realTool('ip', 'iproute2');
    const wg = realTool('wg', 'wireguard-tools');
    const wgQuick = realTool('wg-quick', 'wireguard-tools');
    const wireguardGo = realTool('wireguard-go', 'wireguard-go');
    const ping = realTool('ping', 'iputils-ping');

    const id = randomBytes(3).toString('hex');
    const hubNs = `hn-hub-${id}`;
    const nodeNs = `hn-node-${id}`;
    const hubIf = `hh${id}`;
    const nodeIf = `hn${id}`;
    const dir = tempDir('homenode-netns-');
    const hubConf = join(dir, `${hubIf}.conf`);
    const made: string[] = [];
    try {
      // Two namespaces, a cable between them: the hub at 10.250.0.1, the home machine at .2.
      for (const ns of [hubNs, nodeNs]) {
        sh([ip, 'netns', 'add', ns]);
        made.push(ns);
        sh([ip, '-n', ns, 'link', 'set', 'lo', 'up']);
      }
      sh([
        ip,
        'link',
        'add',
        `vh${id}`,
        'netns',
        hubNs,
        'type',
        'veth',
        'peer',
        'name',
        `vn${id}`,
        'netns',
        nodeNs,
      ]);
      sh([ip, '-n', hubNs, 'address', 'add', '10.250.0.1/24', 'dev', `vh${id}`]);
      sh([ip, '-n', nodeNs, 'address', 'add', '10.250.0.2/24', 'dev', `vn${id}`]);
      sh([ip, '-n', hubNs, 'link', 'set', `vh${id}`, 'up']);
      sh([ip, '-n', nodeNs, 'link', 'set', `vn${id}`, 'up']);

      // The hub: its own key and interface, no peers yet.
      const hubKey = sh([wg, 'genkey']).trim();
      const hubPublicKey = sh([wg, 'pubkey'], `${hubKey}\n`).trim();
      writeFileSync(
        hubConf,
        `[Interface]\nPrivateKey = ${hubKey}\nListenPort = 51820\nAddress = 100.64.0.1/10\n`,
        { mode: 0o600 },
      );
      const userspace = { ...process.env, WG_QUICK_USERSPACE_IMPLEMENTATION: wireguardGo };
      const inNs = (ns: string, argv: string[]) => {
        const result = spawnSync(ip, ['netns', 'exec', ns, ...argv], {
          encoding: 'utf8',
          timeout: 30_000,
          env: userspace,
        });
        if (result.status !== 0) {
          throw new Error(
            `${argv.join(' ')} in ${ns} exited ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`,
          );
        }
        return result.stdout;
      };
      inNs(hubNs, [wgQuick, 'up', hubConf]);

      // The node: the real agent, whose wg and wg-quick are the real ones inside the node namespace.
      const s = await setupDaemon({
        server: { cluster: { hubPublicKey, hubEndpoint: '10.250.0.1:51820' } },
        config: { intervals: FAST_INTERVALS, wireguardInterface: nodeIf },
      });
      setups.push(s);
      const netnsBin = join(dir, 'bin-netns');
      mkdirSync(netnsBin);
      for (const [name, real] of [
        ['wg', wg],
        ['wg-quick', wgQuick],
      ] as const) {
        writeFileSync(
          join(netnsBin, name),
          `#!/bin/sh\n# The real ${name}, inside the node's network namespace.\n` +
            `WG_QUICK_USERSPACE_IMPLEMENTATION=${wireguardGo} exec ${ip} netns exec ${nodeNs} ${real} "$@"\n`,
        );
        chmodSync(join(netnsBin, name), 0o755);
      }
      const agent = s.start({}, [netnsBin]);
      await agent.waitFor('Status: pending', 30_000);
      await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
      await expect.poll(async () => (await s.node()).status, poll).toBe('active');
      // The agent's interface is up in the node namespace, with the address the join gave it.
      const nodeConf = readFileSync(join(s.paths.wireguardDir, `${nodeIf}.conf`), 'utf8');
      const nodeAddress = /^Address = (100\.\d+\.\d+\.\d+)\/32$/m.exec(nodeConf)?.[1];
      expect(nodeAddress).toBeDefined();
      expect(inNs(nodeNs, [ip, '-4', 'address', 'show', 'dev', nodeIf])).toContain(`inet ${nodeAddress}/32`);

      // Ops: the hub's [Interface] plus the server's peers export, loaded with wg syncconf.
      const exported = await fetch(`${s.server.url}/v1/wireguard/peers?format=wg`, {
        headers: { authorization: `Bearer ${s.server.adminToken}` },
      });
      expect(exported.status).toBe(200);
      const peers = await exported.text();
      const synced = join(dir, 'hub-synced.conf');
      writeFileSync(synced, sh([wgQuick, 'strip', hubConf]) + peers, { mode: 0o600 });
      inNs(hubNs, [wg, 'syncconf', hubIf, synced]);
      expect(inNs(hubNs, [wg, 'show', hubIf, 'allowed-ips'])).toContain(`${nodeAddress}/32`);

      // Across the overlay: the node reaches the hub, and the hub (which learnt its endpoint) the node.
      // The node's first handshake went out before the hub knew it; WireGuard tries again 5 s after
      // a handshake that got no answer, so the first reply may take that long (bounded: 30 s).
      const firstReplyBy = Date.now() + 30_000;
      while (
        spawnSync(ip, ['netns', 'exec', nodeNs, ping, '-c', '1', '-W', '1', '100.64.0.1'], { timeout: 5_000 })
          .status !== 0
      ) {
        if (Date.now() > firstReplyBy)
          throw new Error('The hub never answered a ping over the overlay in 30 s.');
      }
      inNs(nodeNs, [ping, '-c', '3', '-i', '0.3', '-W', '3', '100.64.0.1']);
      inNs(hubNs, [ping, '-c', '3', '-i', '0.3', '-W', '3', String(nodeAddress)]);
      const handshakes = inNs(hubNs, [wg, 'show', hubIf, 'latest-handshakes']);
      expect(Number(handshakes.trim().split(/\s+/)[1])).toBeGreaterThan(0);
      // Without the overlay the hub's address is unreachable from the node (the veth is 10.250.0.0/24).
      expect(inNs(nodeNs, [ip, 'route', 'get', '100.64.0.1'])).toContain(`dev ${nodeIf}`);
    } finally {
      // Deleting the links ends the wireguard-go processes; then the namespaces go.
      for (const [ns, iface] of [
        [nodeNs, nodeIf],
        [hubNs, hubIf],
      ] as const) {
        if (!made.includes(ns)) continue;
        spawnSync(ip, ['-n', ns, 'link', 'delete', iface], { timeout: 10_000 });
        spawnSync(ip, ['netns', 'delete', ns], { timeout: 10_000 });
      }
    }
    for (const iface of [hubIf, nodeIf]) {
      await expect
        .poll(() => existsSync(`/var/run/wireguard/${iface}.sock`), { timeout: 10_000 })
        .toBe(false);
    }
  });
});
