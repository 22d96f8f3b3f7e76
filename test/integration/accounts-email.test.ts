/**
 * Confirming an owner's address against a real SMTP server on loopback: sign up → the mail → its
 * link → keys allowed (403 EMAIL_NOT_VERIFIED before); the link works once; the welcome mail with
 * the ISO link follows; only hashes of link tokens are stored; resend and bad links are limited;
 * an owner made by ops counts as confirmed.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { browserClient } from '../helpers/browser-client.js';
import { type MailCatcher, linkIn, startMailCatcher } from '../helpers/mail-catcher.js';
import { type TestServer, type TestServerOptions, freePort, startTestServer } from '../helpers/server.js';

const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 60_000 } };
const PASSWORD = 'correct horse battery';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('email confirmation', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(options: TestServerOptions = {}): Promise<{ server: TestServer; mail: MailCatcher }> {
    const mail = await startMailCatcher();
    cleanup.push(() => mail.stop());
    const server = await startTestServer({
      port: await freePort(),
      accounts: { smtpUrl: mail.url, mailFrom: 'Home Node <no-reply@homenode.test>' },
      deps: FAST,
      ...options,
    });
    cleanup.push(() => server.close());
    return { server, mail };
  }

  it('sign up → confirmation mail → link → keys allowed; the link works once; the welcome mail links the ISO', async () => {
    const { server, mail } = await setup();
    const ada = browserClient(server.url);
    expect(
      (await ada.call('POST', '/v1/signup', { email: 'ada@example.com', name: 'Ada', password: PASSWORD }))
        .status,
    ).toBe(201);

    const refused = await ada.call<ErrorBody>('POST', '/v1/keys', {});
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('EMAIL_NOT_VERIFIED');
    expect(refused.body.error.message).toContain('ada@example.com');
    expect((await ada.call('GET', '/v1/me/account')).body).toMatchObject({
      emailVerified: false,
      passwordSet: true,
    });

    const confirm = await mail.waitFor((m) => m.to.includes('ada@example.com') && /confirm/i.test(m.subject));
    expect(confirm.subject).toBe('Confirm your email address for Home Node');
    expect(confirm.headers.get('from')).toBe('Home Node <no-reply@homenode.test>');
    expect(confirm.text).toContain('Hello Ada,');
    expect(confirm.text).toContain('The link works once, for 72 hours.');
    const link = linkIn(confirm, `${server.url}/verify-email?token=`);
    expect(confirm.html).toContain(`href="${link}"`);
    const token = new URL(link).searchParams.get('token') ?? '';
    expect(token).toMatch(/^[\w-]{43}$/);

    expect((await ada.call('POST', '/v1/auth/verify-email', { token })).body).toEqual({
      verified: true,
      email: 'ada@example.com',
    });
    const created = await ada.call<{ key: string }>('POST', '/v1/keys', {});
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^HN-/);

    const again = await browserClient(server.url).call<ErrorBody>('POST', '/v1/auth/verify-email', { token });
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({ code: 'LINK_USED' });
    expect(again.body.error.message).toMatch(/used already/);

    const welcome = await mail.waitFor((m) => m.to.includes('ada@example.com') && /welcome/i.test(m.subject));
    expect(welcome.text).toContain(`${server.url}/download/homenode.iso`);
    expect(welcome.text).toContain(`${server.url}/machines/add`);
    expect(welcome.text).toMatch(/1\. Download the Home Node USB image/);

    // Only the SHA-256 of a link's token is stored; the token itself is nowhere in the database.
    const files = [server.dbPath, `${server.dbPath}-wal`].map((f) => {
      try {
        return readFileSync(f).toString('latin1');
      } catch {
        return '';
      }
    });
    expect(files.join('')).not.toContain(token);
  });

  it('refuses a malformed or unknown token, and limits bad links per address', async () => {
    const { server } = await setup({
      deps: {
        ...FAST,
        linkRateLimit: { windowSeconds: 600, resetRequestsPerAddress: 10, badLinksPerAddress: 3 },
      },
    });
    const client = browserClient(server.url);
    const malformed = await client.call<ErrorBody>('POST', '/v1/auth/verify-email', { token: 'short' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.code).toBe('VALIDATION_FAILED');
    for (let i = 0; i < 3; i += 1) {
      const unknown = await client.call<ErrorBody>('POST', '/v1/auth/verify-email', {
        token: 'x'.repeat(42) + String(i),
      });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.code).toBe('LINK_INVALID');
    }
    const limited = await client.call<ErrorBody>('POST', '/v1/auth/verify-email', { token: 'y'.repeat(43) });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('sends the confirmation again on request, at most three an hour, and never once confirmed', async () => {
    const { server, mail } = await setup();
    const grace = browserClient(server.url);
    await grace.call('POST', '/v1/signup', { email: 'grace@example.com', name: 'Grace', password: PASSWORD });
    for (let i = 0; i < 2; i += 1) {
      const resent = await grace.call('POST', '/v1/auth/verify-email/resend');
      expect(resent.status).toBe(202);
      expect(resent.body).toEqual({ sentTo: 'grace@example.com' });
    }
    const limited = await grace.call<ErrorBody>('POST', '/v1/auth/verify-email/resend');
    expect(limited.status).toBe(429);
    expect(limited.body.error.message).toContain('3 confirmation mails');
    await expect
      .poll(() => mail.mails.filter((m) => m.to.includes('grace@example.com')).length, { timeout: 15_000 })
      .toBe(3);

    // Every link works (each once): the newest confirms.
    const last = mail.mails.filter((m) => m.to.includes('grace@example.com')).at(-1);
    const token = new URL(
      linkIn(last ?? mail.mails[0]!, `${server.url}/verify-email?token=`),
    ).searchParams.get('token');
    expect((await grace.call('POST', '/v1/auth/verify-email', { token })).status).toBe(200);
    expect((await grace.call<ErrorBody>('POST', '/v1/auth/verify-email/resend')).body.error.code).toBe(
      'CONFLICT',
    );
  });

  it('counts an address entered by ops as confirmed: keys at once, and the welcome mail', async () => {
    const { server, mail } = await setup();
    const owner = await server.createOwner('linus@example.com', 'Linus');
    const token = await server.tokenFor('owner', owner.id);
    expect((await server.api('POST', '/v1/keys', { token, body: {} })).status).toBe(201);
    const welcome = await mail.waitFor((m) => m.to.includes('linus@example.com'));
    expect(welcome.subject).toBe('Welcome to Home Node: set up your first machine');
    expect(welcome.text).toContain('Hello Linus,');
  });
});
