/**
 * The troubleshooting guide the audits link to: the real build renders docs/troubleshooting.md,
 * the real server serves it at /docs/troubleshooting under the dashboard's CSP, with an anchor for
 * every audit check (the `docUrl` of each check in an audit points there).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AUDIT_CHECK_IDS, auditDocUrl } from '../../protocol/audit.js';
import { buildWeb } from '../../scripts/build-web.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the troubleshooting guide', () => {
  it('is served at /docs/troubleshooting with an anchor per check and the strict CSP', async () => {
    const { outDir } = await buildWeb(join(mkdtempSync(join(tmpdir(), 'homenode-web-')), 'web'), true);
    server = await startTestServer({ webDir: outDir });
    const res = await fetch(`${server.url}/docs/troubleshooting`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self'(;|$)/);
    const html = await res.text();
    for (const id of AUDIT_CHECK_IDS) {
      expect(html).toContain(`id="${id}"`);
      expect(new URL(auditDocUrl(server.url, id)).pathname).toBe('/docs/troubleshooting');
    }
    const css = /href="(\/assets\/style-[^"]+\.css)"/.exec(html)?.[1] ?? '';
    expect((await fetch(server.url + css)).status).toBe(200);

    const bare = await startTestServer({ webDir: join(outDir, 'nothing-here') });
    const notBuilt = await fetch(`${bare.url}/docs/troubleshooting`);
    await bare.close();
    expect(notBuilt.status).toBe(503);
    expect(await notBuilt.text()).toContain('npm run build:web');
  }, 60_000);
});
