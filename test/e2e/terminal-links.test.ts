/**
 * A node's terminal output is the node's to choose: an OSC 8 hyperlink printed in the remote
 * shell (real agent, real bash) must not open anything in the ops browser: no confirm dialog, no
 * new page, no navigation. Hovering or clicking shows the address as text only.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentProcess, FACTS, runAgent, tempDir } from '../integration/agent-support.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { type BrowserHarness, launchBrowser } from './browser.js';
import { startRealAgent } from './real-agent.js';

describe('links in the remote terminal (headless Chromium, real server, real agent)', () => {
  let server: TestServer;
  let harness: BrowserHarness;
  let agent: AgentProcess | undefined;

  beforeAll(async () => {
    server = await startTestServer();
    harness = await launchBrowser();
  });

  afterAll(async () => {
    agent?.kill('SIGTERM');
    await agent?.done;
    await harness?.close();
    await server?.close();
  });

  it('an OSC 8 link from the node opens nothing when clicked; its address is shown as text', async () => {
    const owner = await server.createOwner();
    const { key } = await server.createKey(owner.id);
    const stateDir = tempDir('homenode-e2e-links-');
    const enroll = await runAgent([
      'enroll',
      '--server',
      server.url,
      '--state-dir',
      stateDir,
      '--facts',
      join(FACTS, 'rtx4090.json'),
      '--key',
      key,
    ]);
    expect(enroll.code, enroll.stdout + enroll.stderr).toBe(0);
    const { nodeId } = JSON.parse(readFileSync(join(stateDir, 'node.json'), 'utf8')) as { nodeId: string };
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    agent = startRealAgent(server.url, stateDir);
    await expect
      .poll(async () => (await server.api<{ online: boolean }>('GET', `/v1/nodes/${nodeId}`)).body.online, {
        timeout: 15_000,
      })
      .toBe(true);

    const { page, context } = await harness.newPage();
    const dialogs: string[] = [];
    const pages: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    context.on('page', (opened) => pages.push(opened.url()));
    await page.goto(`${server.url}/login`);
    await page.getByLabel('API token').fill(await server.tokenFor('ops'));
    await page.keyboard.press('Enter');
    await page
      .getByRole('heading', { name: 'Fleet' })
      .or(page.getByRole('link', { name: 'Fleet' }))
      .first()
      .waitFor();
    await page.goto(`${server.url}/nodes/${nodeId}`);
    await page.getByRole('button', { name: 'Open terminal' }).click();
    await page.getByText('Everything is recorded.').waitFor();
    const rows = page.locator('.xterm-rows');
    await expect.poll(() => rows.textContent()).toMatch(/[$#]/);

    // printf builds the word, so only the output line (not the typed command) reads "click-here".
    await page.keyboard.type(
      "printf '\\033]8;;https://evil.example/steal\\033\\\\click-%s\\033]8;;\\033\\\\\\n' here",
    );
    await page.keyboard.press('Enter');
    const link = rows.locator('div', { hasText: /^click-here\s*$/ });
    await link.waitFor();
    const url = page.url();
    const box = await link.locator('span').first().boundingBox();
    if (!box) throw new Error('the link has no position on the screen');
    await page.mouse.move(box.x + 4, box.y + box.height / 2);
    await page.mouse.click(box.x + 4, box.y + box.height / 2);
    await page.keyboard.down('Control');
    await page.mouse.click(box.x + 4, box.y + box.height / 2);
    await page.keyboard.up('Control');
    await page.waitForTimeout(1000);
    await harness.screenshot(page, 'terminal-link-not-opened');
    expect(dialogs).toEqual([]);
    expect(pages).toEqual([]);
    expect(page.url()).toBe(url);
    const status = page.getByRole('status');
    await expect
      .poll(() => status.textContent())
      .toBe('Links from the machine are not opened. This one points to: https://evil.example/steal');
    // Moving away restores the session line.
    await page.mouse.move(box.x + 4, box.y - 200);
    await expect.poll(() => status.textContent()).toContain('Everything is recorded.');
    await context.close();
  });
});
