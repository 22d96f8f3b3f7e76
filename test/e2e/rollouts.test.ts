/**
 * The rollouts page in headless Chromium against the real server: ops see a rollout with its
 * stages, pause it after confirming (and nothing happens when they dismiss the question), resume
 * it, and see the result. A rollout's machines, with why one rolled back, are the same table
 * (their states come from real agents in test/integration/agent-update.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { upload } from '../integration/artifact-support.js';
import { type BrowserHarness, launchBrowser } from './browser.js';

describe.sequential('rollouts in the dashboard (headless Chromium, real server)', () => {
  let server: TestServer;
  let harness: BrowserHarness;
  let id: string;

  beforeAll(async () => {
    server = await startTestServer({ deps: { rolloutTickMs: 60_000 } });
    harness = await launchBrowser();
    expect((await upload(server, 'homenode-agent', '2.0.0', Buffer.from('a release'))).status).toBe(201);
    const created = await server.api<{ id: string }>('POST', '/v1/rollouts', {
      body: {
        artifact: 'homenode-agent',
        version: '2.0.0',
        stages: [
          { percent: 5, soakMinutes: 60 },
          { percent: 100, soakMinutes: 0 },
        ],
        maxFailures: 2,
      },
    });
    id = created.body.id;
  });

  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('ops see the rollout and pause and resume it after confirming', async () => {
    const { page, context } = await harness.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('API token').fill(await server.tokenFor('ops'));
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Rollouts' }).click();
    await page.getByRole('heading', { name: 'Rollout of 2.0.0' }).waitFor();
    const list = page.locator('table').first();
    expect(await list.textContent()).toContain('1: 5 %, 60 min · 2: 100 %');
    expect(await page.textContent('main')).toContain(
      'No machine has been offered this release yet (offline machines get it when they are back).',
    );

    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.waitForTimeout(300);
    expect((await server.api<{ state: string }>('GET', `/v1/rollouts/${id}`)).body.state).toBe('active');

    page.once('dialog', (dialog) => {
      expect(dialog.message()).toContain('Pause the rollout of 2.0.0?');
      void dialog.accept();
    });
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.getByText(`Rollout ${id}: pause done.`).waitFor();
    expect((await server.api<{ state: string }>('GET', `/v1/rollouts/${id}`)).body.state).toBe('paused');
    await page.getByText('paused by ops').waitFor();

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText(`Rollout ${id}: resume done.`).waitFor();
    expect((await server.api<{ state: string }>('GET', `/v1/rollouts/${id}`)).body.state).toBe('active');
    await harness.screenshot(page, 'rollouts-01-ops');
    expect(harness.problems).toEqual([]);
    await context.close();
  });
});
