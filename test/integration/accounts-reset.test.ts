/**
 * Password reset by a mailed link, against a real SMTP server on loopback: 202 whether or not the
 * address is known (and no mail for an unknown one); the new password works and the old one does
 * not; every other session ends while the one that reset stays; the link works once, expires after
 * an hour, and cannot confirm an address; requests are limited per client address.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type BrowserClient, browserClient } from '../helpers/browser-client.js';
import { type CaughtMail, type MailCatcher, linkIn, startMailCatcher } from '../helpers/mail-catcher.js';
import {
  type TestServer,
  type TestServerOptions,
  freePort,
  manualClock,
  startTestServer,
} from '../helpers/server.js';

const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 60_000 } };
const OLD = 'correct horse battery';
const NEW = 'a much better passphrase';

interface ErrorBody {
  error: { code: string; message: string };
}

describe('password reset', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(options: TestServerOptions = {}) {
    const mail = await startMailCatcher();
    cleanup.push(() => mail.stop());
    const server = await startTestServer({
      port: await freePort(),
      accounts: { smtpUrl: mail.url },
      deps: FAST,
      ...options,
    });
    cleanup.push(() => server.close());
    return { server, mail };
  }

  const tokenOf = (server: TestServer, mail: CaughtMail) =>
    new URL(linkIn(mail, `${server.url}/reset-password?token=`)).searchParams.get('token') ?? '';

  async function signUp(server: TestServer, email: string): Promise<BrowserClient> {
    const client = browserClient(server.url);
    expect((await client.call('POST', '/v1/signup', { email, name: 'Ada', password: OLD })).status).toBe(201);
    return client;
  }

  const resetMail = (mail: MailCatcher, to: string, after = 0) =>
    mail.waitFor((m) => m.to.includes(to) && /reset your/i.test(m.subject) && mail.mails.indexOf(m) >= after);

  it('reset → mail → new password works, the old one and the other sessions do not, the link works once', async () => {
    const { server, mail } = await setup();
    const ada = await signUp(server, 'ada@example.com');
    const laptop = browserClient(server.url);
    expect(
      (await laptop.call('POST', '/v1/session', { email: 'ada@example.com', password: OLD })).status,
    ).toBe(200);

    expect(
      (await browserClient(server.url).call('POST', '/v1/auth/password-reset', { email: 'ADA@example.com' }))
        .status,
    ).toBe(202);
    const unknown = await browserClient(server.url).call('POST', '/v1/auth/password-reset', {
      email: 'nobody@example.com',
    });
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual({ accepted: true });

    const message = await resetMail(mail, 'ada@example.com');
    expect(message.text).toContain('The link works once, for 60 minutes.');
    expect(message.text).toContain('If you did not ask for this, ignore this mail');
    const token = tokenOf(server, message);

    // Opened in the session it was asked from: that session stays, every other one ends.
    expect((await ada.call('POST', '/v1/auth/password-reset/confirm', { token, password: NEW })).status).toBe(
      204,
    );
    expect((await ada.call('GET', '/v1/keys')).status).toBe(200);
    expect((await laptop.call('GET', '/v1/keys')).status).toBe(401);
    expect((await laptop.call('GET', '/v1/session')).body).toEqual({ signedIn: false });

    const stranger = browserClient(server.url);
    expect(
      (await stranger.call('POST', '/v1/session', { email: 'ada@example.com', password: OLD })).status,
    ).toBe(401);
    expect(
      (await stranger.call('POST', '/v1/session', { email: 'ada@example.com', password: NEW })).status,
    ).toBe(200);

    const twice = await stranger.call<ErrorBody>('POST', '/v1/auth/password-reset/confirm', {
      token,
      password: 'yet another passphrase',
    });
    expect(twice.status).toBe(400);
    expect(twice.body.error.code).toBe('LINK_USED');
    expect(
      (
        await browserClient(server.url).call('POST', '/v1/session', {
          email: 'ada@example.com',
          password: NEW,
        })
      ).status,
    ).toBe(200);

    const notice = await mail.waitFor(
      (m) => m.to.includes('ada@example.com') && m.subject === 'Your Home Node password was changed',
    );
    expect(notice.text).toContain('Every other session was signed out.');
    // Nothing was sent to the unknown address.
    expect(mail.mails.some((m) => m.to.includes('nobody@example.com'))).toBe(false);
    // The reset proved the mailbox: the address is confirmed too.
    expect((await ada.call('GET', '/v1/me/account')).body).toMatchObject({ emailVerified: true });
  });

  it('a newer link makes the older ones useless once used, and a reset link cannot confirm an address', async () => {
    const { server, mail } = await setup();
    await signUp(server, 'grace@example.com');
    const client = browserClient(server.url);
    await client.call('POST', '/v1/auth/password-reset', { email: 'grace@example.com' });
    const first = tokenOf(server, await resetMail(mail, 'grace@example.com'));
    const count = mail.mails.length;
    await client.call('POST', '/v1/auth/password-reset', { email: 'grace@example.com' });
    const second = tokenOf(server, await resetMail(mail, 'grace@example.com', count));
    expect(second).not.toBe(first);

    const wrongPurpose = await client.call<ErrorBody>('POST', '/v1/auth/verify-email', { token: second });
    expect(wrongPurpose.body.error.code).toBe('LINK_INVALID');
    expect(
      (await client.call('POST', '/v1/auth/password-reset/confirm', { token: second, password: NEW })).status,
    ).toBe(204);
    const older = await client.call<ErrorBody>('POST', '/v1/auth/password-reset/confirm', {
      token: first,
      password: OLD,
    });
    expect(older.body.error.code).toBe('LINK_USED');
  });

  it('expires a link after 60 minutes', async () => {
    const clock = manualClock(Date.now());
    const { server, mail } = await setup({ now: clock.now });
    await signUp(server, 'linus@example.com');
    await browserClient(server.url).call('POST', '/v1/auth/password-reset', { email: 'linus@example.com' });
    const token = tokenOf(server, await resetMail(mail, 'linus@example.com'));
    clock.advance(61 * 60_000);
    const late = await browserClient(server.url).call<ErrorBody>('POST', '/v1/auth/password-reset/confirm', {
      token,
      password: NEW,
    });
    expect(late.status).toBe(400);
    expect(late.body.error).toMatchObject({ code: 'LINK_EXPIRED' });
    expect(late.body.error.message).toContain('60 minutes');
    expect(
      (
        await browserClient(server.url).call('POST', '/v1/session', {
          email: 'linus@example.com',
          password: OLD,
        })
      ).status,
    ).toBe(200);
  });

  it('sends at most three reset mails an hour to one address and limits requests per client address', async () => {
    const { server, mail } = await setup({
      deps: {
        ...FAST,
        linkRateLimit: { windowSeconds: 600, resetRequestsPerAddress: 5, badLinksPerAddress: 20 },
      },
    });
    await signUp(server, 'mary@example.com');
    const client = browserClient(server.url);
    for (let i = 0; i < 5; i += 1)
      expect(
        (await client.call('POST', '/v1/auth/password-reset', { email: 'mary@example.com' })).status,
      ).toBe(202);
    const limited = await client.call<ErrorBody>('POST', '/v1/auth/password-reset', {
      email: 'mary@example.com',
    });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    await expect
      .poll(() => mail.mails.filter((m) => /reset your/i.test(m.subject)).length, { timeout: 10_000 })
      .toBe(3);
    await new Promise((r) => setTimeout(r, 500));
    expect(mail.mails.filter((m) => /reset your/i.test(m.subject))).toHaveLength(3);
  });

  it('gives an owner made by ops, who has no password yet, a password through the reset link', async () => {
    const { server, mail } = await setup();
    await server.createOwner('ken@example.com', 'Ken');
    await browserClient(server.url).call('POST', '/v1/auth/password-reset', { email: 'ken@example.com' });
    const token = tokenOf(server, await resetMail(mail, 'ken@example.com'));
    const ken = browserClient(server.url);
    expect((await ken.call('POST', '/v1/auth/password-reset/confirm', { token, password: NEW })).status).toBe(
      204,
    );
    const signedIn = await ken.call<{ role: string; email: string }>('POST', '/v1/session', {
      email: 'ken@example.com',
      password: NEW,
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.body).toMatchObject({ role: 'owner', email: 'ken@example.com' });
    expect((await ken.call('POST', '/v1/keys', {})).status).toBe(201);
  });
});
