/**
 * Dashboard sign-in on a real server: sessions opened with a token or an owner's password, cookie
 * flags, CSRF on mutating requests, sign-out and token revocation ending sessions, rate limits, the
 * shell WebSocket over a session cookie (same origin only), and the static dashboard with its CSP.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectControl, newSimIdentity, signNodeToken, simHello } from '../../scripts/sim/sim-agent.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { linkIn, mailFiles } from '../helpers/mail-catcher.js';
import { type TestServer, type TestServerOptions, startTestServer } from '../helpers/server.js';

interface SessionBody {
  signedIn: boolean;
  role: string;
  ownerId: string | null;
  email: string | null;
  csrfToken: string | null;
}

describe('dashboard sessions', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function setup(options: TestServerOptions = {}) {
    const server = await startTestServer(options);
    servers.push(server);
    /** A browser-like client: keeps the session cookie, sends the CSRF header when told to. */
    const browser = () => {
      let cookie = '';
      let csrf = '';
      const call = async <T = Record<string, unknown>>(
        method: string,
        path: string,
        body?: unknown,
        opts: { csrf?: boolean } = {},
      ) => {
        const headers: Record<string, string> = {};
        if (cookie) headers.cookie = cookie;
        if (body !== undefined) headers['content-type'] = 'application/json';
        if (opts.csrf !== false && csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
        const res = await fetch(server.url + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const setCookie = res.headers.get('set-cookie');
        if (setCookie) cookie = setCookie.split(';')[0] ?? '';
        const text = await res.text();
        const parsed = (text ? JSON.parse(text) : undefined) as T;
        if (
          parsed &&
          typeof parsed === 'object' &&
          'csrfToken' in parsed &&
          typeof parsed.csrfToken === 'string'
        )
          csrf = parsed.csrfToken;
        return { status: res.status, headers: res.headers, body: parsed };
      };
      return { call, cookie: () => cookie };
    };
    return { server, browser };
  }

  it('signs an owner up with an HttpOnly SameSite cookie, stores only a salted scrypt hash, and signs in again', async () => {
    const { server, browser } = await setup();
    const ada = browser();
    const signup = await ada.call<SessionBody>('POST', '/v1/signup', {
      email: 'Ada@Example.com',
      name: 'Ada',
      password: 'correct horse battery',
    });
    expect(signup.status).toBe(201);
    expect(signup.body).toMatchObject({ signedIn: true, role: 'owner', email: 'ada@example.com' });
    expect(signup.headers.get('set-cookie')).toMatch(/^hn_session=[\w-]{40,};.*HttpOnly/i);
    expect(signup.headers.get('set-cookie')).toMatch(/SameSite=Strict/i);
    expect((await ada.call<SessionBody>('GET', '/v1/session')).body).toMatchObject({ role: 'owner' });

    const db = new Database(server.dbPath, { readonly: true });
    const row = db.prepare('SELECT password_hash FROM owner_passwords').get() as { password_hash: string };
    const sessions = db.prepare('SELECT secret_hash FROM sessions').all() as { secret_hash: string }[];
    db.close();
    expect(row.password_hash).toMatch(/^scrypt\$131072\$8\$1\$[\w-]{22}\$[\w-]{43}$/);
    expect(row.password_hash).not.toContain('correct horse');
    expect(sessions[0]?.secret_hash).not.toBe(ada.cookie().split('=')[1]);

    const again = browser();
    expect(
      (await again.call('POST', '/v1/session', { email: 'ada@example.com', password: 'wrong password!' }))
        .status,
    ).toBe(401);
    const signIn = await again.call<SessionBody>('POST', '/v1/session', {
      email: 'ada@example.com',
      password: 'correct horse battery',
    });
    expect(signIn.status).toBe(200);
    expect(signIn.body.ownerId).toBe(signup.body.ownerId);
    expect(
      (
        await browser().call('POST', '/v1/signup', {
          email: 'ada@example.com',
          name: 'A',
          password: 'another password',
        })
      ).status,
    ).toBe(409);
    expect(
      (await browser().call('POST', '/v1/signup', { email: 'b@example.com', name: 'B', password: 'short' }))
        .status,
    ).toBe(400);
  });

  it('requires the CSRF header on cookie-authenticated changes, never on bearer requests', async () => {
    const { server, browser } = await setup();
    const owner = browser();
    await owner.call('POST', '/v1/signup', {
      email: 'o@example.com',
      name: 'O',
      password: 'correct horse battery',
    });
    const forged = await owner.call('POST', '/v1/keys', {}, { csrf: false });
    expect(forged.status).toBe(403);
    expect(forged.body).toMatchObject({ error: { code: 'FORBIDDEN', details: { reason: 'CSRF' } } });
    // Keys need a confirmed address: without a mail server, the confirmation is an .eml file.
    await expect.poll(() => mailFiles(join(server.dir, 'mail')).length, { timeout: 10_000 }).toBe(1);
    const [confirmation] = mailFiles(join(server.dir, 'mail'));
    const link = confirmation ? linkIn(confirmation, 'http://127.0.0.1/verify-email?token=') : '';
    const token = new URL(link).searchParams.get('token');
    expect((await owner.call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
    const created = await owner.call<{ key: string }>('POST', '/v1/keys', {});
    expect(created.status).toBe(201);
    expect((await owner.call<{ keys: unknown[] }>('GET', '/v1/keys')).body.keys).toHaveLength(1);
    const bearer = await server.api('POST', '/v1/owners', { body: { email: 'x@example.com', name: 'X' } });
    expect(bearer.status).toBe(201);
  });

  it('a token session acts with its role; sign-out and revoking the token end it', async () => {
    const { server, browser } = await setup();
    const opsToken = await server.tokenFor('ops');
    const ops = browser();
    expect((await ops.call('POST', '/v1/session', { token: 'hn_not-a-real-token' })).status).toBe(401);
    expect((await ops.call<SessionBody>('POST', '/v1/session', { token: opsToken })).body.role).toBe('ops');
    expect((await ops.call('GET', '/v1/nodes')).status).toBe(200);
    expect((await ops.call('GET', '/v1/tokens')).status).toBe(403);
    expect((await ops.call('DELETE', '/v1/session')).status).toBe(204);
    expect((await ops.call('GET', '/v1/nodes')).status).toBe(401);
    expect((await ops.call<SessionBody>('GET', '/v1/session')).body).toEqual({ signedIn: false });

    const again = browser();
    await again.call('POST', '/v1/session', { token: opsToken });
    const tokens = await server.api<{ tokens: { id: string; role: string }[] }>('GET', '/v1/tokens');
    const id = tokens.body.tokens.find((t) => t.role === 'ops')?.id ?? '';
    await server.api('DELETE', `/v1/tokens/${id}`);
    expect((await again.call('GET', '/v1/nodes')).status).toBe(401);
  });

  // Twelve scrypt hashes at N=2^17 in a row: about 5 s alone, far more on a loaded machine.
  it('rate-limits failed password sign-ins per email with 429 and Retry-After', async () => {
    const { browser } = await setup();
    const client = browser();
    await client.call('POST', '/v1/signup', {
      email: 'r@example.com',
      name: 'R',
      password: 'correct horse battery',
    });
    for (let i = 0; i < 10; i += 1) {
      expect(
        (await client.call('POST', '/v1/session', { email: 'r@example.com', password: `guess number ${i}` }))
          .status,
      ).toBe(401);
    }
    const limited = await client.call('POST', '/v1/session', {
      email: 'r@example.com',
      password: 'correct horse battery',
    });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
  }, 180_000);

  it('opens the shell WebSocket with a session cookie from the same origin only', async () => {
    const { server, browser } = await setup();
    const owner = await server.createOwner();
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const key = await server.createKey(owner.id);
    const { body } = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key.key, machine),
    });
    const { conn } = await connectControl(server.url, await signNodeToken(identity, body.nodeId));
    if (!conn) throw new Error('control channel refused');
    conn.send(simHello(true));
    await conn.next('welcome');
    const ops = browser();
    await ops.call('POST', '/v1/session', { token: await server.tokenFor('ops') });
    const url = `${server.url.replace('http', 'ws')}/v1/nodes/${body.nodeId}/shell`;
    const attempt = (origin: string) =>
      new Promise<{ status?: number; frame?: unknown }>((resolve) => {
        const ws = new WebSocket(url, { headers: { cookie: ops.cookie(), origin } });
        ws.once('unexpected-response', (_req, res) => resolve({ status: res.statusCode }));
        ws.once('message', (data: Buffer) => {
          resolve({ frame: JSON.parse(data.toString()) });
          ws.close();
        });
      });
    expect(await attempt('http://evil.example')).toEqual({ status: 403 });
    // The shell is ready once the node confirms it (docs/control-channel.md "Remote shell").
    const sameOrigin = attempt(server.url);
    const open = await conn.next('shell-open');
    conn.send({ type: 'shell-opened', sessionId: open.sessionId });
    expect(await sameOrigin).toMatchObject({ frame: { type: 'ready' } });
    await conn.close();
  });

  it('serves the dashboard with a strict CSP, hashed assets cached for a year, and index.html on client routes', async () => {
    const webDir = mkdtempSync(join(tmpdir(), 'homenode-web-'));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(
      join(webDir, 'index.html'),
      '<!doctype html><script type="module" src="/assets/app-X.js"></script>',
    );
    writeFileSync(join(webDir, 'assets', 'app-X.js'), 'console.log(1)');
    const { server } = await setup({ webDir });
    for (const path of ['/', '/fleet', '/nodes/node_abc', '/payouts/per_1']) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/html/);
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
    const asset = await fetch(`${server.url}/assets/app-X.js`);
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${server.url}/assets/..%2f..%2fpackage.json`)).status).toBe(404);
    expect((await fetch(`${server.url}/assets/missing.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/no-such-page`)).status).toBe(404);

    const { server: bare } = await setup({ webDir: join(webDir, 'nothing-here') });
    const notBuilt = await fetch(bare.url + '/');
    expect(notBuilt.status).toBe(503);
    expect(await notBuilt.text()).toContain('npm run build:web');
  });

  it("answers 404 for another owner's presence timeline", async () => {
    const { server } = await setup();
    const a = await server.createOwner();
    const b = await server.createOwner();
    const key = await server.createKey(a.id);
    const { body } = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key.key, await newMachine()),
    });
    const mine = await server.api('GET', `/v1/nodes/${body.nodeId}/presence`, {
      token: await server.tokenFor('owner', a.id),
    });
    expect(mine.status).toBe(200);
    expect(mine.body).toMatchObject({ intervals: [] });
    const theirs = await server.api('GET', `/v1/nodes/${body.nodeId}/presence`, {
      token: await server.tokenFor('owner', b.id),
    });
    expect(theirs.status).toBe(404);
  });
});
