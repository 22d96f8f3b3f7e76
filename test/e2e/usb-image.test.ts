/**
 * The add-machine page's USB image card in headless Chromium against a real server: before any
 * image is published it says who to ask; once ops upload the `homenode-iso` artifact it links to
 * `/download/homenode.iso` with the SHA-256 and how to write the stick on each system.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomFile, sha256, upload } from '../integration/artifact-support.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { type BrowserHarness, launchBrowser } from './browser.js';

describe('the USB image on the add-machine page (headless Chromium, real server)', () => {
  let server: TestServer;
  let harness: BrowserHarness;

  beforeAll(async () => {
    server = await startTestServer();
    harness = await launchBrowser();
  });

  afterAll(async () => {
    await harness?.close();
    await server?.close();
  });

  it('says who to ask until an image is published, then links to it with its checksum', async () => {
    const owner = await server.createOwner();
    const token = await server.tokenFor('owner', owner.id);
    const { page, context } = await harness.newPage();
    await page.goto(`${server.url}/login`);
    await page.getByLabel('API token').fill(token);
    await page.keyboard.press('Enter');
    await page.getByRole('link', { name: 'Add a machine' }).first().click();
    await page.getByRole('heading', { name: 'Get the USB image' }).waitFor();
    await expect.poll(() => page.getByText('No USB image has been published here yet').count()).toBe(1);
    await harness.screenshot(page, 'usb-image-none');

    const iso = randomFile(256 * 1024);
    expect((await upload(server, 'homenode-iso', '2026.12.1', iso)).status).toBe(201);
    await page.reload();
    const link = page.getByRole('link', { name: 'Download homenode.iso' });
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('/download/homenode.iso');
    expect(await page.locator('#iso-sha256').textContent()).toBe(sha256(iso));
    await page.getByText('Linux', { exact: true }).click();
    await expect.poll(() => page.getByText('Check the device name twice').isVisible()).toBe(true);
    await harness.screenshot(page, 'usb-image-published');

    // What the link serves is the uploaded image, and the checksum file names it as sha256sum -c reads it.
    const served = await fetch(`${server.url}/download/homenode.iso`);
    expect(sha256(Buffer.from(await served.arrayBuffer()))).toBe(sha256(iso));
    const sums = await fetch(`${server.url}/download/homenode.iso.sha256`);
    expect(await sums.text()).toBe(`${sha256(iso)}  homenode.iso\n`);
    await context.close();
  });
});
