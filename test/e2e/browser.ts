/**
 * Headless Chromium for the dashboard tests: Debian's `chromium` driven by playwright-core (no
 * downloaded browsers), one browser per file, a fresh profile (playwright gives each launch a new
 * temporary user-data-dir and removes it afterwards), console errors and uncaught
 * exceptions collected per page, and screenshots saved under `test-results/e2e/`.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';

export const SCREENSHOTS = join(import.meta.dirname, '../../test-results/e2e');

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface BrowserHarness {
  browser: Browser;
  /** A new signed-out browser profile (cookies are per context) with a tracked page. */
  newPage(options?: {
    viewport?: { width: number; height: number };
  }): Promise<{ context: BrowserContext; page: Page }>;
  /** Console errors and uncaught exceptions seen so far, on every page. */
  problems: string[];
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserHarness> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `No Chromium at ${CHROMIUM}. Install it with: apt-get install -y chromium (or set CHROMIUM_PATH).`,
    );
  }
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  const problems: string[] = [];
  return {
    browser,
    problems,
    async newPage(options = {}) {
      const context = await browser.newContext({
        viewport: options.viewport ?? { width: 1366, height: 850 },
        acceptDownloads: true,
      });
      const page = await context.newPage();
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console: ${message.text()} (${page.url()})`);
      });
      page.on('pageerror', (error) => problems.push(`uncaught: ${error.message} (${page.url()})`));
      return { context, page };
    },
    async screenshot(page, name) {
      const path = join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await browser.close();
    },
  };
}
