/**
 * Webhooks against real HTTP receivers on loopback: a receiver that fails at first gets each event
 * once it answers, signed with `x-homenode-signature: sha256=<HMAC of the body>`, with every
 * attempt in the delivery log; owners hear only of their own machines; the secret is shown once
 * and not stored in clear; URLs to loopback, private and link-local addresses are refused unless
 * the operator allows them; redirects are not followed and a silent receiver times out.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, type TestServerOptions, startTestServer } from '../helpers/server.js';

const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 200, webhookMs: 50, watchMs: 60_000 } };
const RETRY = { delaysMs: [300, 600], maxAttempts: 10 };

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Answers for the coming requests, in order; 200 once they run out. */
  answers: (number | 'silent')[];
  close(): Promise<void>;
}

async function startReceiver(
  answers: (number | 'silent')[] = [],
  headers: Record<string, string> = {},
): Promise<Receiver> {
  const received: Received[] = [];
  const receiver: Receiver = { url: '', received, answers, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      const answer = receiver.answers.shift() ?? 200;
      if (answer === 'silent') return;
      res.writeHead(answer, headers);
      res.end(answer >= 400 ? 'not now' : 'ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  receiver.url = `http://127.0.0.1:${address && typeof address !== 'string' ? address.port : 0}/hook`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

interface Delivery {
  event: string;
  status: string;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  log: { attempt: number; status: number | null; error: string | null }[];
}

describe('webhooks', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(options: TestServerOptions = {}) {
    const server = await startTestServer({
      deps: FAST,
      ...options,
      accounts: {
        webhookRetry: RETRY,
        webhooks: { allowPrivateAddresses: true, timeoutMs: 2000, maxResponseBytes: 1024 },
        ...options.accounts,
      },
    });
    cleanup.push(() => server.close());
    return server;
  }

  async function enroll(server: TestServer, ownerId: string): Promise<string> {
    const res = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(ownerId)).key, await newMachine()),
    });
    return res.body.nodeId;
  }

  const deliveries = async (server: TestServer, id: string, token?: string) =>
    (await server.api<{ deliveries: Delivery[] }>('GET', `/v1/webhooks/${id}/deliveries`, { token })).body
      .deliveries;

  it('delivers each event once, signed, to a receiver that fails at first, with every attempt in the log', async () => {
    const server = await setup();
    const receiver = await startReceiver([500, 503]);
    cleanup.push(() => receiver.close());
    const ops = await server.tokenFor('ops');
    const created = await server.api<{ id: string; secret: string; events: string[] }>(
      'POST',
      '/v1/webhooks',
      {
        token: ops,
        body: { url: receiver.url, events: ['node.enrolled', 'node.approved'] },
      },
    );
    expect(created.status).toBe(201);
    expect(created.headers.get('cache-control')).toBe('no-store');
    expect(created.body.secret).toMatch(/^whsec_[\w-]{43}$/);
    const listed = await server.api<{ webhooks: Record<string, unknown>[] }>('GET', '/v1/webhooks', {
      token: ops,
    });
    expect(listed.body.webhooks).toEqual([expect.not.objectContaining({ secret: expect.anything() })]);

    const owner = await server.createOwner('ada@example.com', 'Ada');
    const nodeId = await enroll(server, owner.id);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    await expect
      .poll(async () => (await deliveries(server, created.body.id)).map((d) => d.status), { timeout: 10_000 })
      .toEqual(['delivered', 'delivered']);
    await new Promise((r) => setTimeout(r, 1000));

    // Two failures, then each event once: four requests in all.
    expect(receiver.received).toHaveLength(4);
    const bodies = receiver.received.map(
      (r) => JSON.parse(r.body) as { id: string; event: string; at: string; data: Record<string, unknown> },
    );
    expect(bodies.map((b) => b.event)).toEqual([
      'node.enrolled',
      'node.enrolled',
      'node.enrolled',
      'node.approved',
    ]);
    expect(new Set(bodies.slice(0, 3).map((b) => b.id)).size).toBe(1);
    expect(bodies[3]).toMatchObject({
      event: 'node.approved',
      data: { nodeId, ownerId: owner.id, note: null },
    });
    expect(bodies[3]?.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    for (const r of receiver.received) {
      const expected = `sha256=${createHmac('sha256', created.body.secret).update(r.body).digest('hex')}`;
      expect(r.headers['x-homenode-signature']).toBe(expected);
      expect(r.headers['content-type']).toBe('application/json');
    }
    const log = await deliveries(server, created.body.id, ops);
    const enrolled = log.find((d) => d.event === 'node.enrolled');
    expect(enrolled).toMatchObject({ status: 'delivered', attempts: 3, lastStatus: 200 });
    expect(enrolled?.log.map((a) => a.status)).toEqual([500, 503, 200]);
    expect(enrolled?.log[0]?.error).toBe('the receiver answered 500');

    // The signing secret is kept sealed, never in clear.
    expect(
      readFileSync(server.dbPath).toString('latin1') +
        readFileSync(`${server.dbPath}-wal`).toString('latin1'),
    ).not.toContain(created.body.secret);
  });

  it("lets owners hear only of their own machines, and hides one owner's webhooks from another", async () => {
    const server = await setup();
    const receiver = await startReceiver();
    cleanup.push(() => receiver.close());
    const ada = await server.createOwner('ada@example.com', 'Ada');
    const bob = await server.createOwner('bob@example.com', 'Bob');
    const adaToken = await server.tokenFor('owner', ada.id);
    const bobToken = await server.tokenFor('owner', bob.id);
    const hook = await server.api<{ id: string; ownerId: string }>('POST', '/v1/webhooks', {
      token: adaToken,
      body: { url: receiver.url, events: ['node.enrolled'], secret: 'ada-chose-this-secret' },
    });
    expect(hook.body.ownerId).toBe(ada.id);
    await enroll(server, bob.id);
    const mine = await enroll(server, ada.id);
    await expect.poll(() => receiver.received.length, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.received).toHaveLength(1);
    expect(JSON.parse(receiver.received[0]?.body ?? '{}')).toMatchObject({
      data: { nodeId: mine, ownerId: ada.id },
    });
    const signature = `sha256=${createHmac('sha256', 'ada-chose-this-secret')
      .update(receiver.received[0]?.body ?? '')
      .digest('hex')}`;
    expect(receiver.received[0]?.headers['x-homenode-signature']).toBe(signature);

    expect(
      (await server.api<{ webhooks: unknown[] }>('GET', '/v1/webhooks', { token: bobToken })).body.webhooks,
    ).toEqual([]);
    expect(
      (await server.api('GET', `/v1/webhooks/${hook.body.id}/deliveries`, { token: bobToken })).status,
    ).toBe(404);
    expect((await server.api('DELETE', `/v1/webhooks/${hook.body.id}`, { token: bobToken })).status).toBe(
      404,
    );
    expect(
      (await server.api('GET', '/v1/webhooks', { token: await server.tokenFor('reviewer') })).status,
    ).toBe(403);
    expect(
      (await server.api('GET', '/v1/webhooks', { token: await server.tokenFor('ops') })).body,
    ).toMatchObject({
      webhooks: [{ id: hook.body.id }],
    });
    expect((await server.api('DELETE', `/v1/webhooks/${hook.body.id}`, { token: adaToken })).status).toBe(
      204,
    );
    const audit = await server.api<{ entries: { action: string }[] }>('GET', '/v1/audit?targetType=webhook');
    expect(audit.body.entries.map((e) => e.action)).toEqual(['webhook.deleted', 'webhook.created']);
  });

  it('refuses loopback, private, link-local and local names unless allowed, checking what a name resolves to', async () => {
    const server = await setup({
      accounts: { webhooks: { allowPrivateAddresses: false, timeoutMs: 2000, maxResponseBytes: 1024 } },
      deps: {
        ...FAST,
        resolve: async (host) => (host === 'hooks.example.com' ? ['192.168.1.5'] : ['93.184.215.14']),
      },
    });
    const ops = await server.tokenFor('ops');
    const refuse = async (url: string, words: RegExp) => {
      const res = await server.api<{ error: { code: string; message: string } }>('POST', '/v1/webhooks', {
        token: ops,
        body: { url, events: ['node.approved'] },
      });
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('WEBHOOK_URL_REFUSED');
      expect(res.body.error.message).toMatch(words);
    };
    await refuse('http://127.0.0.1:8080/hook', /127\.0\.0\.1, a loopback, private or reserved address/);
    await refuse('http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254/);
    await refuse('http://10.1.2.3/hook', /10\.1\.2\.3/);
    await refuse('http://[::1]:9000/hook', /::1/);
    await refuse('http://[::ffff:192.168.0.1]/hook', /::ffff/);
    await refuse('http://localhost:9000/hook', /local host name/);
    await refuse('https://hooks.example.com/homenode', /resolves to 192\.168\.1\.5/);
    await refuse('ftp://files.example.com/', /https:\/\//);
    await refuse('https://user:pass@hooks.example.org/', /user name or password/);
    const ok = await server.api('POST', '/v1/webhooks', {
      token: ops,
      body: { url: 'https://public.example.org/hook', events: ['node.approved'] },
    });
    expect(ok.status).toBe(201);
  });

  it('does not follow a redirect and gives up on a receiver that does not answer in time', async () => {
    const server = await setup({
      accounts: {
        webhookRetry: { delaysMs: [200], maxAttempts: 2 },
        webhooks: { allowPrivateAddresses: true, timeoutMs: 500, maxResponseBytes: 1024 },
      },
    });
    const target = await startReceiver();
    cleanup.push(() => target.close());
    const redirecting = await startReceiver([302, 302], { location: target.url });
    cleanup.push(() => redirecting.close());
    const silent = await startReceiver(['silent', 'silent']);
    cleanup.push(() => silent.close());
    const ops = await server.tokenFor('ops');
    const a = await server.api<{ id: string }>('POST', '/v1/webhooks', {
      token: ops,
      body: { url: redirecting.url, events: ['node.enrolled'] },
    });
    const b = await server.api<{ id: string }>('POST', '/v1/webhooks', {
      token: ops,
      body: { url: silent.url, events: ['node.enrolled'] },
    });
    await enroll(server, (await server.createOwner()).id);
    await expect
      .poll(async () => (await deliveries(server, a.body.id))[0]?.status, { timeout: 10_000 })
      .toBe('failed');
    await expect
      .poll(async () => (await deliveries(server, b.body.id))[0]?.status, { timeout: 10_000 })
      .toBe('failed');
    const [redirected] = await deliveries(server, a.body.id);
    expect(redirected?.log.map((l) => l.status)).toEqual([302, 302]);
    expect(redirected?.lastError).toMatch(/redirects are not followed/);
    expect(target.received).toHaveLength(0);
    const [timedOut] = await deliveries(server, b.body.id);
    expect(timedOut?.log.map((l) => l.error)).toEqual(['no answer within 500 ms', 'no answer within 500 ms']);
  });
});
