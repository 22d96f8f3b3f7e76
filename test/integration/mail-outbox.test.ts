/**
 * The durable mail outbox against a real SMTP server on loopback: the mail server down for a
 * minute (real downtime) while mails are queued and the enroll-server restarts → every mail is
 * delivered once when it is back, each with its own stable Message-ID; every mail has plain text
 * and HTML and RFC 8058 one-click unsubscribe, which works with the form body mail programs send;
 * a permanent refusal (SMTP 550) is not retried.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SMTPServer } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { browserClient } from '../helpers/browser-client.js';
import { type CaughtMail, parseMail, startMailCatcher } from '../helpers/mail-catcher.js';
import { type TestServer, freePort, startTestServer } from '../helpers/server.js';

const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 100, webhookMs: 100, watchMs: 60_000 } };
const SHORT_RETRY = { delaysMs: [1000, 2000, 4000], maxAttempts: 1000 };
const PASSWORD = 'correct horse battery';

function outbox(dbPath: string): { status: string; attempts: number; to_address: string }[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return db.prepare('SELECT status, attempts, to_address FROM mail_outbox ORDER BY created_at').all() as {
      status: string;
      attempts: number;
      to_address: string;
    }[];
  } finally {
    db.close();
  }
}

describe('the mail outbox', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  it(
    'delivers every mail once after the mail server was down for a minute and the server restarted meanwhile',
    { timeout: 150_000 },
    async () => {
      const mail = await startMailCatcher();
      cleanup.push(() => mail.stop());
      const dir = mkdtempSync(join(tmpdir(), 'homenode-outbox-'));
      cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
      const dbPath = join(dir, 'homenode.db');
      const port = await freePort();
      const start = () =>
        startTestServer({
          port,
          dbPath,
          deps: FAST,
          accounts: { smtpUrl: mail.url, mailRetry: SHORT_RETRY },
        });

      await mail.stop();
      const downAt = Date.now();
      let server: TestServer = await start();
      for (const name of ['ada', 'grace', 'mary']) {
        const res = await browserClient(server.url).call('POST', '/v1/signup', {
          email: `${name}@example.com`,
          name,
          password: PASSWORD,
        });
        expect(res.status).toBe(201);
      }
      await server.createOwner('linus@example.com', 'Linus');
      expect(
        (
          await browserClient(server.url).call('POST', '/v1/auth/password-reset', {
            email: 'ada@example.com',
          })
        ).status,
      ).toBe(202);

      // While the mail server is away, the mails wait in the outbox and are tried again.
      await expect.poll(() => outbox(dbPath).length, { timeout: 10_000 }).toBe(5);
      await expect
        .poll(() => Math.min(...outbox(dbPath).map((m) => m.attempts)), { timeout: 20_000 })
        .toBeGreaterThanOrEqual(2);
      expect(outbox(dbPath).every((m) => m.status === 'queued')).toBe(true);

      await server.close({ keepFiles: true });
      server = await start();
      cleanup.push(() => server.close({ keepFiles: true }));
      // fetch keeps connections to the old process; the first call after a restart may meet a closed one.
      const restarted = server.url;
      await expect
        .poll(
          () =>
            fetch(`${restarted}/healthz`).then(
              (r) => r.ok,
              () => false,
            ),
          { timeout: 5000 },
        )
        .toBe(true);
      await browserClient(server.url).call('POST', '/v1/signup', {
        email: 'ken@example.com',
        name: 'ken',
        password: PASSWORD,
      });
      expect(mail.connections).toBe(0);

      await new Promise((resolve) => setTimeout(resolve, Math.max(0, downAt + 60_000 - Date.now())));
      await mail.start();
      await expect.poll(() => mail.mails.length, { timeout: 30_000, interval: 250 }).toBe(6);
      // Nothing more comes: every mail once.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(mail.mails).toHaveLength(6);
      const sent = (to: string) =>
        mail.mails
          .filter((m) => m.to.includes(to))
          .map((m) => m.subject)
          .sort();
      expect(sent('ada@example.com')).toEqual([
        'Confirm your email address for Home Node',
        'Reset your Home Node password',
      ]);
      expect(sent('grace@example.com')).toEqual(['Confirm your email address for Home Node']);
      expect(sent('mary@example.com')).toEqual(['Confirm your email address for Home Node']);
      expect(sent('linus@example.com')).toEqual(['Welcome to Home Node: set up your first machine']);
      expect(sent('ken@example.com')).toEqual(['Confirm your email address for Home Node']);
      const ids = mail.mails.map((m) => m.messageId);
      expect(new Set(ids).size).toBe(6);
      for (const id of ids) expect(id).toMatch(/^<mail_[0-9a-z]{20}@127\.0\.0\.1>$/);
      expect(outbox(dbPath).map((m) => m.status)).toEqual(Array(6).fill('sent'));
    },
  );

  it('writes plain text and HTML with one-click unsubscribe that works with the form body mail programs send', async () => {
    const mail = await startMailCatcher();
    cleanup.push(() => mail.stop());
    const server = await startTestServer({
      port: await freePort(),
      deps: FAST,
      accounts: { smtpUrl: mail.url },
    });
    cleanup.push(() => server.close());
    const ada = browserClient(server.url);
    await ada.call('POST', '/v1/signup', { email: 'ada@example.com', name: 'Ada <b>', password: PASSWORD });
    const confirm: CaughtMail = await mail.waitFor((m) => m.to.includes('ada@example.com'));

    expect(confirm.headers.get('content-type')).toMatch(/^multipart\/alternative/);
    expect(confirm.text).toContain('Hello Ada <b>,');
    expect(confirm.html).toContain('Hello Ada &#60;b&#62;,');
    expect(confirm.html).not.toContain('Ada <b>');
    expect(confirm.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const header = /^<(.+)>$/.exec(confirm.headers.get('list-unsubscribe') ?? '')?.[1] ?? '';
    expect(header).toMatch(
      new RegExp(`^${server.url}/v1/notifications/unsubscribe\\?token=[\\w-]+\\.[\\w-]{43}$`),
    );
    expect(confirm.text).toContain(`${server.url}/unsubscribe?token=`);

    // Opening the link shows what would stop and changes nothing (link scanners open links).
    const token = new URL(header).searchParams.get('token') ?? '';
    const preview = await server.api('GET', `/v1/notifications/unsubscribe?token=${token}`, { token: null });
    expect(preview.body).toMatchObject({
      address: 'ada@example.com',
      category: 'account',
      unsubscribed: false,
    });
    expect(
      (await ada.call<{ choices: Record<string, boolean> }>('GET', '/v1/me/notifications')).body.choices
        .nodeOffline,
    ).toBe(true);

    const oneClick = await fetch(header, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.status).toBe(200);
    const after = await ada.call<{ choices: Record<string, boolean> }>('GET', '/v1/me/notifications');
    expect(Object.values(after.body.choices)).toEqual(Array(6).fill(false));

    const forged = token.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'));
    expect(
      (await server.api('POST', `/v1/notifications/unsubscribe?token=${forged}`, { token: null, body: {} }))
        .status,
    ).toBe(400);
  });

  it('marks a mail the server refuses for good (SMTP 550) as failed without trying again, and sends the others', async () => {
    const received: CaughtMail[] = [];
    let refusals = 0;
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address === 'gone@example.com') {
          refusals += 1;
          const error = Object.assign(new Error('5.1.1 mailbox unavailable'), { responseCode: 550 });
          return callback(error);
        }
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          received.push(
            parseMail(Buffer.concat(chunks).toString(), {
              from: '',
              to: session.envelope.rcptTo.map((r) => r.address),
            }),
          );
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
    const address = smtp.server.address();
    const smtpPort = address && typeof address !== 'string' ? address.port : 0;
    const server = await startTestServer({
      port: await freePort(),
      deps: FAST,
      accounts: { smtpUrl: `smtp://127.0.0.1:${smtpPort}`, mailRetry: SHORT_RETRY },
    });
    cleanup.push(() => server.close());
    await browserClient(server.url).call('POST', '/v1/signup', {
      email: 'gone@example.com',
      name: 'Gone',
      password: PASSWORD,
    });
    await browserClient(server.url).call('POST', '/v1/signup', {
      email: 'here@example.com',
      name: 'Here',
      password: PASSWORD,
    });
    await expect.poll(() => received.length, { timeout: 10_000 }).toBe(1);
    await expect
      .poll(
        () =>
          outbox(server.dbPath)
            .map((m) => m.status)
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual(['failed', 'sent']);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(refusals).toBe(1);
    expect(outbox(server.dbPath).find((m) => m.to_address === 'gone@example.com')).toMatchObject({
      status: 'failed',
      attempts: 1,
    });
  });
});
