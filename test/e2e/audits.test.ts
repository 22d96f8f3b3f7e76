/**
 * Audits in the dashboard, in headless Chromium against the real server on loopback with
 * simulated nodes (real keys, signed reports over the real control channel): the owner of a
 * failing machine sees what failed, why, the steps and the guide's section, and presses "Check
 * again" (then disabled with the time left); ops filter the fleet to failing machines and see the
 * failing checks ranked.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimNode, auditSetup } from '../integration/audit-sim-support.js';
import { type BrowserHarness, launchBrowser } from './browser.js';

type Setup = Awaited<ReturnType<typeof auditSetup>>;

describe.sequential('audits in the dashboard (headless Chromium, real server)', () => {
  let s: Setup;
  let harness: BrowserHarness;
  let failing: SimNode;
  let passing: SimNode;

  beforeAll(async () => {
    s = await auditSetup();
    harness = await launchBrowser();
    failing = await s.node({ join: true });
    passing = await s.node({ join: true });
    await s.tick();
    await failing.answer('fail');
    await passing.answer('pass');
    const [a, b] = await Promise.all([
      s.audits(failing.nodeId).then((l) => s.settled(failing.nodeId, l.audits[0]?.id ?? '')),
      s.audits(passing.nodeId).then((l) => s.settled(passing.nodeId, l.audits[0]?.id ?? '')),
    ]);
    expect([a.status, b.status]).toEqual(['failed', 'passed']);
  });

  afterAll(async () => {
    await harness?.close();
    await s?.server.close();
  });

  async function signIn(page: Page, token: string) {
    await page.goto(`${s.server.url}/login`);
    await page.getByLabel('API token').fill(token);
    await page.keyboard.press('Enter');
  }

  it('the owner sees what failed, why, the steps and the guide, and presses "Check again"', async () => {
    const { page, context } = await harness.newPage();
    await signIn(page, await s.server.tokenFor('owner', failing.ownerId));
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    await page.goto(`${s.server.url}/nodes/${failing.nodeId}`);
    await page.locator('#audit-state').getByText('Checks failing').waitFor();
    const gpu = page.locator('.audit-failure[data-check="gpu"]');
    await expect.poll(() => gpu.textContent()).toContain('Why it matters.');
    expect(await gpu.textContent()).toContain('What to do. Switch off at the wall, reseat the graphics card');
    expect(await gpu.textContent()).toContain('What was found. nvidia-smi answered "No devices were found"');
    expect(await gpu.getByRole('link').getAttribute('href')).toBe('/docs/troubleshooting#gpu');
    await harness.screenshot(page, 'audits-01-owner-failing');

    const button = page.getByRole('button', { name: 'Check again' });
    expect(await button.isDisabled()).toBe(false);
    await button.click();
    await expect
      .poll(() => page.locator('#check-again-hint').textContent(), { timeout: 15_000 })
      .toBe(' A check is waiting to run. You can ask again in 10 minutes.');
    expect(await page.getByRole('button', { name: 'Check again' }).isDisabled()).toBe(true);
    const history = await s.audits(failing.nodeId);
    expect(history.audits[0]).toMatchObject({ trigger: 'owner', status: 'queued' });
    await harness.screenshot(page, 'audits-02-owner-check-again');

    // The guide's section opens under the dashboard's CSP.
    await gpu.getByRole('link').click();
    await page.getByRole('heading', { name: 'gpu', exact: true }).waitFor();
    expect(page.url()).toBe(`${s.server.url}/docs/troubleshooting#gpu`);
    expect(harness.problems).toEqual([]);
    await context.close();
  });

  it('ops filter the fleet to failing machines and see the failing checks ranked', async () => {
    const { page, context } = await harness.newPage();
    await signIn(page, await s.server.tokenFor('ops'));
    await page.getByRole('heading', { name: 'Fleet' }).waitFor();
    const rows = page.locator('#fleet tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    await page.getByLabel('Checks').selectOption('failing');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute('data-node')).toBe(failing.nodeId);
    expect(await rows.first().textContent()).toContain('failing');
    await harness.screenshot(page, 'audits-03-ops-fleet-failing');

    await page.getByRole('link', { name: 'Audits' }).first().click();
    const ranked = page.getByRole('table', { name: /Failing checks/ });
    await expect.poll(() => ranked.locator('tbody tr').count()).toBe(1);
    expect(await ranked.locator('tbody tr').first().textContent()).toMatch(/^gpu1/);
    expect(await page.getByRole('link', { name: '1 failing' }).getAttribute('href')).toBe(
      '/fleet?audit=failing',
    );
    expect(harness.problems).toEqual([]);
    await context.close();
  });
});
