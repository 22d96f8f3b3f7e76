/**
 * Owner accounts in headless Chromium against a real server on loopback, a real SMTP server
 * (`smtp-server`) and a real OpenID provider (`oidc-provider`, on `localhost`, another site): an
 * owner signs up, cannot make a key until they open the mailed confirmation link, then can; they
 * forget their password, reset it from the mailed link (the old password and the old session stop
 * working, the link works once); someone signs in through the provider's own login and consent
 * pages; the owner chooses their notifications, registers a webhook whose secret is shown once and
 * deletes it, and turns off a kind of mail from the unsubscribe link in a real notification.
 * The steps share one server and browser (a story, in order).
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type MailCatcher, linkIn, startMailCatcher } from '../helpers/mail-catcher.js';
import { type TestIdp, startOidcProvider } from '../helpers/oidc-provider.js';
import { type TestServer, freePort, startTestServer } from '../helpers/server.js';
import { type BrowserHarness, launchBrowser } from './browser.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a brand new staple';
const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 60_000 } };

describe.sequential('owner accounts (headless Chromium, real server, SMTP and OpenID provider)', () => {
  let server: TestServer;
  let harness: BrowserHarness;
  let mail: MailCatcher;
  let idp: TestIdp;
  const email = 'grace@example.com';
  /** The first profile, still signed in with the first password (the reset must end it). */
  let firstSession: { context: BrowserContext; page: Page } | undefined;

  beforeAll(async () => {
    const port = await freePort();
    mail = await startMailCatcher();
    idp = await startOidcProvider({
      redirectUris: [`http://127.0.0.1:${port}/v1/auth/oidc/testidp/callback`],
      accounts: { hopper: { email: 'hopper@example.com', email_verified: true, name: 'Grace Hopper' } },
    });
    server = await startTestServer({
      port,
      // hooks.example.com stands for a public receiver (nothing outside loopback is reachable here).
      deps: { ...FAST, resolve: async () => ['93.184.215.14'] },
      accounts: {
        smtpUrl: mail.url,
        providers: [
          {
            kind: 'oidc',
            id: 'testidp',
            name: 'Test ID',
            issuer: idp.issuer,
            clientId: idp.clientId,
            clientSecret: idp.clientSecret,
          },
        ],
      },
    });
    harness = await launchBrowser();
  });

  afterAll(async () => {
    await harness?.close();
    await server?.close();
    await idp?.close();
    await mail?.stop();
  });

  /** Chromium logs the 4xx answers a page asked for as console errors: those, and only those, are expected. */
  function expectRefusals(from: number, statuses: number[]) {
    const logged = harness.problems.splice(from);
    const pattern = new RegExp(`status of (${statuses.join('|')})`);
    expect(logged.filter((p) => !pattern.test(p))).toEqual([]);
  }

  async function signIn(page: Page, address: string, password: string) {
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(address);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  it('sign up: no key until the mailed link is opened, then the key and a welcome mail', async () => {
    const { page, context } = await harness.newPage();
    await page.goto(`${server.url}/signup`);
    await page.getByLabel('Your name').fill('Grace Brewster');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    const banner = page.locator('#confirm-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain(`we sent a link to ${email}`);
    await harness.screenshot(page, 'accounts-01-confirm-banner');

    await page.getByRole('link', { name: 'Add a machine' }).first().click();
    const refused = harness.problems.length;
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByText('Confirm your email address before you add a machine').waitFor();
    expect(await page.locator('#installation-key').count()).toBe(0);
    expectRefusals(refused, [403]);

    const confirmation = await mail.waitFor((m) => m.to.includes(email) && /confirm/i.test(m.subject));
    const link = linkIn(confirmation, `${server.url}/verify-email?token=`);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Your address is confirmed' }).waitFor();
    await harness.screenshot(page, 'accounts-02-confirmed');
    await page.getByRole('link', { name: 'Add a machine' }).click();
    await page.getByRole('button', { name: 'Create key' }).click();
    expect((await page.locator('#installation-key').textContent()) ?? '').toMatch(/^HN-/);
    expect(await page.locator('#confirm-banner').count()).toBe(0);

    const welcome = await mail.waitFor((m) => m.to.includes(email) && /welcome/i.test(m.subject));
    expect(welcome.text).toContain(`${server.url}/download/homenode.iso`);

    // The same link again: it worked once and says so in words.
    const again = await harness.newPage();
    const reused = harness.problems.length;
    await again.page.goto(link);
    await again.page.getByRole('alert').waitFor();
    expect(await again.page.getByRole('heading', { name: 'Your address is confirmed' }).count()).toBe(0);
    expectRefusals(reused, [400]);
    await again.context.close();
    firstSession = { page, context };
  });

  it('reset: the mailed link sets a new password once; the old password and old session stop working', async () => {
    const { page, context } = await harness.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send the link' }).click();
    await page.getByText(`If an account exists for ${email}, a link is on its way.`).waitFor();

    const resetMail = await mail.waitFor((m) => m.to.includes(email) && /reset/i.test(m.subject));
    const link = linkIn(resetMail, `${server.url}/reset-password?token=`);
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await page.getByLabel('New password again').fill('not the same one');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('The two passwords are not the same.').waitFor();
    await page.getByLabel('New password again').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByText('Your password is changed').waitFor();
    await harness.screenshot(page, 'accounts-03-password-changed');

    // The session signed in before the reset is over: the dashboard sends it to the sign-in page.
    const before = firstSession;
    if (!before) throw new Error('the sign-up step did not leave a session');
    const refused = harness.problems.length;
    await before.page.goto(`${server.url}/machines`);
    await expect.poll(() => before.page.url()).toBe(`${server.url}/login`);
    await before.context.close();

    await signIn(page, email, PASSWORD);
    await page.getByRole('alert').waitFor();
    expect(page.url()).toBe(`${server.url}/login`);
    await signIn(page, email, NEW_PASSWORD);
    await page.getByRole('heading', { name: 'My machines' }).waitFor();

    // The link worked once.
    await page.goto(link);
    await page.getByLabel('New password', { exact: true }).fill('yet another password');
    await page.getByLabel('New password again').fill('yet another password');
    await page.getByRole('button', { name: 'Set the new password' }).click();
    await page.getByRole('alert').waitFor();
    expect(await page.getByText('Your password is changed').count()).toBe(0);
    expectRefusals(refused, [400, 401]);
    await context.close();
  });

  it("signs in through the OpenID provider's own login and consent pages, creating the owner", async () => {
    const { page, context } = await harness.newPage();
    // The provider's development pages import a web font; nothing outside loopback is reachable.
    await context.route('https://fonts.googleapis.com/**', (route) =>
      route.fulfill({ status: 200, contentType: 'text/css', body: '' }),
    );
    await page.goto(`${server.url}/login`);
    await page.getByRole('link', { name: 'Sign in with Test ID' }).click();
    await page.waitForURL((url) => url.origin === idp.issuer);
    await page.locator('input[name=login]').fill('hopper');
    await page.locator('input[name=password]').fill('any password');
    await harness.screenshot(page, 'accounts-04-provider-login');
    await page.getByRole('button', { name: 'Sign-in' }).click();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL(`${server.url}/machines`);
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    // The provider confirmed the address: no banner, and a key can be made at once.
    expect(await page.locator('#confirm-banner').count()).toBe(0);
    const session = await page.evaluate(async () => {
      const res = await fetch('/v1/session');
      return (await res.json()) as { role: string; email: string };
    });
    expect(session).toMatchObject({ role: 'owner', email: 'hopper@example.com' });
    await page.getByRole('link', { name: 'Add a machine' }).first().click();
    await page.getByRole('button', { name: 'Create key' }).click();
    expect((await page.locator('#installation-key').textContent()) ?? '').toMatch(/^HN-/);
    await context.close();
  });

  it('settings keep the notification choices; a webhook shows its secret once, its log, and is deleted', async () => {
    const { page, context } = await harness.newPage();
    await signIn(page, email, NEW_PASSWORD);
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    await page.getByLabel('A statement with my earnings is final').uncheck();
    await page.getByLabel('Tell me a machine is offline after (minutes)').fill('45');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('You hear of an offline machine after 45 minutes.').waitFor();
    await page.reload();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(await page.getByLabel('A statement with my earnings is final').isChecked()).toBe(false);
    expect(await page.getByLabel('A machine is approved').isChecked()).toBe(true);
    expect(await page.getByLabel('Tell me a machine is offline after (minutes)').inputValue()).toBe('45');

    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByLabel('URL').fill('https://hooks.example.com/homenode');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    const secret = (await page.locator('#webhook-secret').textContent()) ?? '';
    expect(secret.length).toBeGreaterThanOrEqual(32);
    await page.getByRole('heading', { name: 'https://hooks.example.com/homenode' }).waitFor();
    await harness.screenshot(page, 'accounts-05-webhook-secret');
    await page.reload();
    await page.getByRole('heading', { name: 'https://hooks.example.com/homenode' }).waitFor();
    expect(await page.getByText(secret).count()).toBe(0);
    await page.getByRole('button', { name: 'Deliveries' }).click();
    await page.getByText('Nothing delivered yet.').waitFor();
    // Deleting asks first (a native confirm dialog).
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('No webhooks yet.').waitFor();
    await context.close();
  });

  it("an approval mail's unsubscribe link stops those mails, and Settings shows the choice off", async () => {
    const owners = await server.api<{ owners: { id: string; email: string }[] }>(
      'GET',
      `/v1/owners?q=${encodeURIComponent(email)}`,
    );
    const ownerId = owners.body.owners.find((o) => o.email === email)?.id ?? '';
    const enrolled = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(ownerId)).key, await newMachine()),
    });
    expect(enrolled.status).toBe(201);
    const { nodeId } = enrolled.body;
    expect((await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} })).status).toBe(200);
    const approved = await mail.waitFor((m) => m.to.includes(email) && /approved/.test(m.subject));
    expect(approved.headers.get('list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');

    // Opened from the mail program: nobody is signed in in this profile.
    const { page, context } = await harness.newPage();
    await page.goto(linkIn(approved, `${server.url}/unsubscribe?token=`));
    await page.getByText(`Stop sending ${email}`).waitFor();
    await harness.screenshot(page, 'accounts-06-unsubscribe');
    await page.getByRole('button', { name: 'Stop these mails' }).click();
    await page.getByText(`Done: ${email} no longer gets`).waitFor();

    await signIn(page, email, NEW_PASSWORD);
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    await page.getByRole('link', { name: 'Settings' }).click();
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    expect(await page.getByLabel('A machine is approved').isChecked()).toBe(false);
    expect(await page.getByLabel('A machine is rejected, with the reason').isChecked()).toBe(true);
    await context.close();
  });

  it('left no console errors or uncaught exceptions on any page', () => {
    expect(harness.problems).toEqual([]);
  });
});
