/**
 * The dashboard in headless Chromium against a real server on loopback: an owner signs up, confirms
 * their address from the mailed link (a real SMTP server on loopback) and creates a key, the real
 * agent enrolls with it, ops approve it from the page and watch it come online once the real agent
 * daemon runs, a remote shell on it (real bash) echoes, a reviewer computes, locks and downloads a
 * statement, and a second owner sees none of the first one's data. The steps share one server and
 * browser (a story, in order); each step opens its own browser profile, so cookies never leak
 * between people.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, FACTS, runAgent, tempDir } from '../integration/agent-support.js';
import { type MailCatcher, linkIn, startMailCatcher } from '../helpers/mail-catcher.js';
import { FAST_AGENTS, type TestServer, freePort, startTestServer } from '../helpers/server.js';
import { type BrowserHarness, launchBrowser } from './browser.js';
import { startRealAgent } from './real-agent.js';

const PASSWORD = 'correct horse battery';

describe.sequential('dashboard (headless Chromium, real server, real agent)', () => {
  let server: TestServer;
  let harness: BrowserHarness;
  let agent: AgentProcess | undefined;
  let mail: MailCatcher;
  const story = {
    key: '',
    nodeId: '',
    stateDir: tempDir('homenode-e2e-agent-'),
    ownerEmail: 'ada@example.com',
  };

  beforeAll(async () => {
    mail = await startMailCatcher();
    // A fixed port, so that the mailed confirmation link points at this server.
    server = await startTestServer({
      port: await freePort(),
      accounts: { smtpUrl: mail.url },
      deps: { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 60_000 } },
      control: FAST_AGENTS,
    });
    harness = await launchBrowser();
  });

  afterAll(async () => {
    agent?.kill('SIGTERM');
    await agent?.done;
    await harness?.close();
    await server?.close();
    await mail?.stop();
  });

  async function signInWithToken(page: Page, token: string) {
    await page.goto(`${server.url}/login`);
    await page.getByLabel('API token').fill(token);
    await page.keyboard.press('Enter'); // keyboard only: Enter submits the form
  }

  it('an owner signs up and confirms the mailed link and creates an installation key, shown once with the steps', async () => {
    const { page, context } = await harness.newPage();
    await page.goto(server.url);
    await expect.poll(() => page.url()).toBe(`${server.url}/login`);
    await harness.screenshot(page, '01-login');
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Your name').fill('Ada Lovelace');
    await page.getByLabel('Email').fill(story.ownerEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await harness.screenshot(page, '02-signup');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === 'hn_session');
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    const confirmation = await mail.waitFor(
      (m) => m.to.includes(story.ownerEmail) && /confirm/i.test(m.subject),
    );
    await page.goto(linkIn(confirmation, `${server.url}/verify-email?token=`));
    await page.getByRole('heading', { name: 'Your address is confirmed' }).waitFor();

    await page.getByRole('link', { name: 'Add a machine' }).first().click();
    await page.getByLabel('Name for this key (optional)').fill('Study PC');
    await page.getByRole('button', { name: 'Create key' }).click();
    const keyText = (await page.locator('#installation-key').textContent()) ?? '';
    expect(keyText).toMatch(/^HN-[0-9A-Z]{4}(-[0-9A-Z*~$=]{4}){4}$/);
    story.key = keyText;
    await expect.poll(() => page.getByText('Write it to a USB stick').count()).toBe(1);
    await page.getByRole('button', { name: 'Copy key' }).waitFor();
    await harness.screenshot(page, '03-add-machine-key');

    await page.getByRole('link', { name: 'My machines' }).first().click();
    const keys = page.locator('table').filter({ hasText: 'Study PC' });
    await expect.poll(() => keys.textContent()).toContain('0 of 1');
    expect(await keys.textContent()).not.toContain(keyText.slice(8));
    await context.close();
  });

  it('the real agent enrolls with that key and the owner sees it waiting for approval', async () => {
    const run = await runAgent([
      'enroll',
      '--server',
      server.url,
      '--state-dir',
      story.stateDir,
      '--facts',
      join(FACTS, 'rtx4090.json'),
      '--key',
      story.key.toLowerCase().replaceAll('-', ' '),
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    story.nodeId = (
      JSON.parse(readFileSync(join(story.stateDir, 'node.json'), 'utf8')) as { nodeId: string }
    ).nodeId;

    const { page, context } = await harness.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(story.ownerEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const card = page.locator('article.machine');
    await card.waitFor();
    expect(await card.textContent()).toContain('Waiting for approval');
    expect(await card.textContent()).toContain(story.nodeId);
    await harness.screenshot(page, '04-owner-machines-pending');
    await context.close();
  });

  it('ops sign in with a token, see it pending with its checks, and approve it from the page', async () => {
    const { page, context } = await harness.newPage();
    await signInWithToken(page, await server.tokenFor('ops'));
    await page.getByRole('link', { name: 'Pending' }).click();
    const card = page.locator('article', { hasText: story.nodeId });
    await card.waitFor();
    expect(await card.textContent()).toMatch(/rtx4090/i);
    expect(await card.textContent()).toContain(story.ownerEmail);
    await harness.screenshot(page, '05-ops-pending');
    // A pending machine offers no terminal (it could not open one): the page says why instead.
    await page.goto(`${server.url}/nodes/${story.nodeId}`);
    await page.getByRole('heading', { name: `Machine ${story.nodeId}` }).waitFor();
    await page.getByText('Remote shells open once the machine is approved.').waitFor();
    expect(await page.getByRole('button', { name: 'Open terminal' }).count()).toBe(0);
    await page.getByRole('link', { name: 'Pending' }).click();
    await card.getByRole('button', { name: 'Approve' }).click();
    await page.getByText(`${story.nodeId} approved.`).waitFor();
    const detail = await server.api<{ status: string }>('GET', `/v1/nodes/${story.nodeId}`);
    expect(detail.body.status).toBe('approved');
    await context.close();
  });

  it('the fleet table shows it come online without a reload once the real agent runs, and a shell echoes', async () => {
    const { page, context } = await harness.newPage();
    await signInWithToken(page, await server.tokenFor('ops'));
    await page.getByRole('link', { name: 'Fleet' }).click();
    const row = page.locator(`tr[data-node="${story.nodeId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain('offline');
    agent = startRealAgent(server.url, story.stateDir);
    // Generous: the agent starts through tsx, slow on a loaded machine.
    await expect.poll(() => row.textContent(), { timeout: 60_000, interval: 500 }).toContain('online');
    expect(await row.textContent()).toContain(story.ownerEmail);
    await harness.screenshot(page, '06-ops-fleet');
    await page.getByLabel('Search').fill('no-such-machine');
    await page.getByText('No machines match.').waitFor();
    await page.getByLabel('Search').fill('rtx4090');
    await row.waitFor();
    await page.getByRole('button', { name: 'Uptime 7 days' }).click();
    expect(await page.locator('th[aria-sort="ascending"]').textContent()).toContain('Uptime 7 days');

    await row.getByRole('link', { name: story.nodeId }).click();
    await page.getByRole('heading', { name: `Machine ${story.nodeId}` }).waitFor();
    // The fleet list read its uptime while the node was offline; the detail counts the live session.
    const upTotal = page.locator('[data-field="up-total"]');
    await expect
      .poll(
        async () => {
          await page.reload();
          return upTotal.textContent();
        },
        { timeout: 15_000, interval: 1_000 },
      )
      .toMatch(/^([1-9]\d* s|\d+ min) since enrollment$/);
    await harness.screenshot(page, '07-node-detail');
    await page.getByRole('button', { name: 'Open terminal' }).click();
    await page.getByText('Everything is recorded.').waitFor();
    const screen = page.locator('.xterm-rows');
    await expect.poll(() => screen.textContent()).toMatch(/[$#]/); // bash's prompt
    await page.keyboard.type('echo "hello-from"-the-browser');
    await page.keyboard.press('Enter');
    // The typed line shows the quotes; only bash's answer has the words joined.
    await expect.poll(() => screen.textContent()).toContain('echo "hello-from"-the-browser');
    await expect.poll(() => screen.textContent()).toMatch(/browser.*hello-from-the-browser/);
    await harness.screenshot(page, '08-terminal');
    await page.getByRole('button', { name: 'Close terminal' }).click();
    await page.getByText('Session ended').waitFor();

    await page.getByLabel('Command', { exact: true }).selectOption('collect-diagnostics');
    await page.getByRole('button', { name: 'Send' }).click();
    const diagnostics = page.getByRole('link', { name: 'Download diagnostics' });
    await diagnostics.waitFor({ timeout: 30_000 });
    const [bundle] = await Promise.all([page.waitForEvent('download'), diagnostics.click()]);
    expect(readFileSync((await bundle.path()) ?? '', 'utf8').length).toBeGreaterThan(100);

    await page.getByRole('link', { name: 'Outages' }).click();
    await page.getByLabel('Start').fill('2026-01-05T10:00');
    await page.getByLabel('End').fill('2026-01-05T11:30');
    await page.getByLabel('Reason').fill('Upstream network maintenance');
    await page.getByRole('button', { name: 'Record outage' }).click();
    await page.getByRole('cell', { name: 'Upstream network maintenance' }).waitFor();
    await harness.screenshot(page, '09a-ops-outages');
    const sessions = await server.api<{ sessions: { closeReason: string }[] }>(
      'GET',
      `/v1/nodes/${story.nodeId}/shell-sessions`,
    );
    expect(sessions.body.sessions).toHaveLength(1);
    await context.close();
  });

  it('a reviewer computes the period and downloads the CSV', async () => {
    const { page, context } = await harness.newPage();
    await signInWithToken(page, await server.tokenFor('reviewer'));
    const card = await server.api('POST', '/v1/rate-cards', {
      body: {
        effectiveFrom: '2020-01-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        },
      },
    });
    expect(card.status).toBe(201);
    const minute = 60_000;
    // The period running now: it ends in an hour, so it cannot be locked yet.
    const end = Math.floor(Date.now() / minute) * minute + 60 * minute;
    const created = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
      body: { start: new Date(end - 120 * minute).toISOString(), end: new Date(end).toISOString() },
    });
    expect(created.status).toBe(201);
    await page.getByRole('link', { name: 'Payouts' }).click();
    await page.locator(`a[href="/payouts/${created.body.id}"]`).waitFor();
    await harness.screenshot(page, '09-reviewer-periods');
    await page.locator(`a[href="/payouts/${created.body.id}"]`).click();
    await page.getByRole('button', { name: 'Compute' }).click();
    const table = page.locator('#statement');
    await table.waitFor();
    expect(await table.textContent()).toContain(story.nodeId);
    expect(await table.textContent()).toContain(`Subtotal ${story.ownerEmail}`);
    await harness.screenshot(page, '10-reviewer-statement');
    expect(await page.getByRole('button', { name: 'Lock…' }).isDisabled()).toBe(true);
    await page.getByText('it can be locked once it has ended').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    const csv = readFileSync((await download.path()) ?? '', 'utf8');
    const [header, ...lines] = csv.trim().split(/\r?\n/);
    expect(header).toMatch(/nodeId|node_id/i);
    expect(lines.some((l) => l.includes(story.nodeId))).toBe(true);

    // A period that has ended can be locked, after a confirmation.
    const ended = Math.floor(Date.now() / minute) * minute - 60 * minute;
    const past = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
      body: {
        start: new Date(ended - 120 * minute).toISOString(),
        end: new Date(ended - 60 * minute).toISOString(),
      },
    });
    expect((await server.api('POST', `/v1/payout-periods/${past.body.id}/compute`)).status).toBe(200);
    await page.getByRole('link', { name: 'All periods' }).click();
    await page.locator(`a[href="/payouts/${past.body.id}"]`).click();
    await page.getByRole('button', { name: 'Lock…' }).click();
    await page.getByRole('dialog').getByText('Lock this period?').waitFor();
    await harness.screenshot(page, '10b-reviewer-lock-confirm');
    await page.getByRole('dialog').getByRole('button', { name: 'Lock period' }).click();
    await page.locator('.badge.period-locked').waitFor();
    expect(await page.getByRole('button', { name: 'Compute' }).isDisabled()).toBe(true);

    // An earlier period, ended and computed but not locked yet: still being checked.
    const checking = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
      body: {
        start: new Date(ended - 240 * minute).toISOString(),
        end: new Date(ended - 180 * minute).toISOString(),
      },
    });
    expect((await server.api('POST', `/v1/payout-periods/${checking.body.id}/compute`)).status).toBe(200);
    await context.close();
  });

  it('the owner sees the period on the earnings page', async () => {
    const { page, context } = await harness.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('Email').fill(story.ownerEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('link', { name: 'Earnings' }).click();
    await page.getByRole('heading', { name: 'Per period' }).waitFor();
    expect(await page.locator('svg.chart').getAttribute('aria-label')).toMatch(/\$\d+\.\d{2}/);
    // Only the period running now is "so far"; the ended ones say where they stand.
    await page.getByRole('heading', { name: 'This period so far (estimate)' }).waitFor();
    const statuses = await page.locator('table tbody tr td:nth-child(2)').allTextContents();
    expect(statuses.sort()).toEqual(['Ended, being checked (estimate)', 'Final', 'In progress (estimate)']);
    await harness.screenshot(page, '11-owner-earnings');
    await context.close();
  });

  it("a second owner sees none of the first owner's machines, keys or pages", async () => {
    const { page, context } = await harness.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${server.url}/signup`);
    await page.getByLabel('Your name').fill('Grace Hopper');
    await page.getByLabel('Email').fill('grace@example.com');
    await page.getByLabel('Password').fill('another long password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('No machines yet').waitFor();
    expect(await page.locator('main').textContent()).not.toContain(story.nodeId);
    expect(await page.getByText('You have no installation keys yet').count()).toBe(1);
    await harness.screenshot(page, '12-second-owner-phone');
    const expected404 = harness.problems.length;
    await page.goto(`${server.url}/nodes/${story.nodeId}`);
    await page.getByRole('alert').waitFor();
    expect(await page.getByRole('alert').textContent()).toMatch(/not found/i);
    // Chromium logs the 404 answers this page asked for as console errors: expected here, and only these.
    const logged = harness.problems.splice(expected404);
    expect(logged.every((p) => p.includes('status of 404'))).toBe(true);
    await context.close();
  });

  it('left no uncaught errors or console errors in the browser', () => {
    expect(harness.problems).toEqual([]);
  });
});
