/**
 * `serverPin` against a real HTTPS front (node:tls, terminating TLS in front of the real server, as
 * a reverse proxy would) with an ECDSA P-256 and an RSA certificate made by the openssl CLI: the pin
 * that docs/iso.md's openssl command prints connects, a wrong pin is refused with a message that
 * says so, for both key types, in `preflight` (HTTPS) and in the daemon (WebSocket).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { pinChecker } from '../../agent/net/http-request.js';
import { startTestServer } from '../helpers/server.js';
import { type DaemonSetup, setupDaemon } from './agent-daemon-support.js';
import { runAgent, tempDir } from './agent-support.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

type KeyType = 'ecdsa' | 'rsa';

function openssl(args: string[], input?: Buffer): Buffer {
  const result = spawnSync('openssl', args, { input, timeout: 30_000 });
  if (result.error)
    throw new Error(`openssl could not run (${result.error.message}): apt-get install -y openssl`);
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${result.stderr.toString()}`);
  return result.stdout;
}

/** A self-signed certificate for 127.0.0.1, and its pin as docs/iso.md tells operators to compute it. */
function makeCertificate(type: KeyType) {
  const dir = tempDir('homenode-pin-');
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  const newkey =
    type === 'ecdsa' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
  openssl([
    'req',
    '-x509',
    ...newkey,
    '-nodes',
    '-keyout',
    key,
    '-out',
    cert,
    '-days',
    '2',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  // docs/iso.md: openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64
  const pubkey = openssl(['x509', '-pubkey', '-noout', '-in', cert]);
  const der = openssl(['pkey', '-pubin', '-outform', 'der'], pubkey);
  const digest = openssl(['dgst', '-sha256', '-binary'], der);
  const base64 = execFileSync('base64', [], { input: digest }).toString().trim();
  const text = openssl(['x509', '-noout', '-text', '-in', cert]).toString();
  if (!text.includes(type === 'ecdsa' ? 'id-ecPublicKey' : 'rsaEncryption'))
    throw new Error(`openssl made no ${type} certificate:\n${text}`);
  return { dir, certPath: cert, cert: readFileSync(cert), key: readFileSync(key), pin: `sha256/${base64}` };
}

/** TLS terminated in front of a plain TCP port (HTTP and WebSocket alike). */
async function tlsFront(target: number, credentials: { cert: Buffer; key: Buffer }) {
  const sockets = new Set<net.Socket>();
  const server = tls.createServer(credentials, (clear) => {
    const upstream = net.connect(target, '127.0.0.1');
    sockets.add(clear).add(upstream);
    clear.pipe(upstream).pipe(clear);
    const end = () => {
      clear.destroy();
      upstream.destroy();
    };
    clear.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return `https://127.0.0.1:${port}`;
}

function pinConfig(dir: string, pin: string): string {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify({ serverPin: pin }));
  return path;
}

/** `preflight` on this machine (not a facts file: the server must be probed live). */
async function preflightWithPin(url: string, certPath: string, pin: string) {
  const dir = tempDir();
  const run = await runAgent(
    ['preflight', '--json', '--server', url, '--config', pinConfig(dir, pin), '--state-dir', dir],
    { env: { NODE_EXTRA_CA_CERTS: certPath } },
  );
  const { checks } = JSON.parse(run.stdout) as { checks: { id: string; status: string; detail: string }[] };
  return checks.find((c) => c.id === 'server');
}

// Several real processes per test: a generous timeout for a loaded machine.
describe('serverPin is the SHA-256 of the SubjectPublicKeyInfo', { timeout: 90_000 }, () => {
  let certs: Record<KeyType, ReturnType<typeof makeCertificate>>;
  beforeAll(() => {
    certs = { ecdsa: makeCertificate('ecdsa'), rsa: makeCertificate('rsa') };
  });

  for (const type of ['ecdsa', 'rsa'] as const) {
    it(`${type}: the documented openssl pin connects, a wrong one is refused (preflight over HTTPS)`, async () => {
      const server = await startTestServer();
      cleanup.push(() => server.close());
      const mine = certs[type];
      const other = certs[type === 'ecdsa' ? 'rsa' : 'ecdsa'];
      const url = await tlsFront(server.port, mine);

      expect(await preflightWithPin(url, mine.certPath, mine.pin)).toMatchObject({ status: 'pass' });
      const refused = await preflightWithPin(url, mine.certPath, other.pin);
      expect(refused?.status).toBe('fail');
      expect(refused?.detail).toContain(
        `presented the certificate key ${mine.pin}, not the pinned ${other.pin} (serverPin)`,
      );
    });

    it(`${type}: the agent's own check accepts exactly that pin on a live TLS connection`, async () => {
      const mine = certs[type];
      const url = new URL(await tlsFront(await freeTcpPort(), mine));
      const attempt = (pin: string) =>
        new Promise<string>((resolve) => {
          const socket = tls.connect({
            host: '127.0.0.1',
            port: Number(url.port),
            ca: mine.cert,
            checkServerIdentity: pinChecker(pin),
          });
          socket.once('secureConnect', () => {
            socket.destroy();
            resolve('connected');
          });
          socket.once('error', (error: Error) => resolve(error.message));
        });
      expect(await attempt(mine.pin)).toBe('connected');
      expect(await attempt(certs[type === 'ecdsa' ? 'rsa' : 'ecdsa'].pin)).toMatch(/not the pinned/);
    });
  }

  it('the daemon connects through the ECDSA front with the right pin and refuses a wrong one', async () => {
    const ecdsa = certs.ecdsa;
    for (const [pin, expectOnline] of [
      [ecdsa.pin, true],
      [certs.rsa.pin, false],
    ] as const) {
      const s: DaemonSetup = await setupDaemon({ config: { serverPin: pin } });
      cleanup.push(() => s.cleanup());
      s.useUrl(await tlsFront(s.server.port, ecdsa));
      const agent = s.start({ NODE_EXTRA_CA_CERTS: ecdsa.certPath });
      if (expectOnline) {
        await agent.waitFor('Connected to the server.', 15_000);
        await expect.poll(async () => (await s.node()).online, { timeout: 8000, interval: 50 }).toBe(true);
      } else {
        await agent.waitFor(/Not connected: .*not the pinned .*serverPin/, 15_000);
        expect((await s.node()).online).toBe(false);
      }
    }
  });
});

async function freeTcpPort(): Promise<number> {
  // A TLS front needs a target; the handshake (all this test looks at) ends before it is used.
  const server = net.createServer((s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
}
