/**
 * The public performance board in headless Chromium against the real server with simulated,
 * audited nodes: no sign-in, a card per GPU class with the figures' spread and the price per
 * GPU-hour, a class too small to show figures says so, no machine or owner id anywhere in the
 * page; and the owner's machine page shows where the machine stands in its class.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import { type SimNode, auditSetup } from '../integration/audit-sim-support.js';
import { type BrowserHarness, launchBrowser } from './browser.js';

type Setup = Awaited<ReturnType<typeof auditSetup>>;

describe.sequential('the performance board (headless Chromium, real server)', () => {
  let s: Setup;
  let harness: BrowserHarness;
  const nodes: SimNode[] = [];

  beforeAll(async () => {
    s = await auditSetup();
    harness = await launchBrowser();
    await s.server.api('POST', '/v1/rate-cards', {
      token: await s.server.tokenFor('reviewer'),
      body: {
        effectiveFrom: new Date(s.clock.now() - 60_000).toISOString(),
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '250000', workloadUusdPerGpuHour: '600000' },
        },
      },
    });
    const owner = await s.server.createOwner('board-owner@example.org');
    for (let i = 0; i < 3; i += 1) nodes.push(await s.node({ join: true, ownerId: owner.id }));
    const gpu3090 = {
      vendor: 'nvidia',
      model: 'rtx3090',
      pciId: '10de:2204',
      memoryBytes: 24_576 * 1024 * 1024,
      uuid: 'GPU-1c9e0f3a-5b7d-4e2a-9c81-6f4d3b2a1e07',
      driver: '550.54.15',
      name: 'NVIDIA GeForce RTX 3090',
    };
    nodes.push(await s.node({ join: true, hardware: rtx4090Hardware({ gpus: [gpu3090] }) }));
    await s.tick();
    for (const n of nodes) {
      s.clock.advance(7);
      const request = await n.answer('pass');
      await s.settled(n.nodeId, request.auditId);
    }
  });

  afterAll(async () => {
    await harness?.close();
    await s?.server.close();
  });

  it('anyone sees the board without signing in, and no machine or owner id', async () => {
    const { page, context } = await harness.newPage();
    // Reached from the sign-in page, without signing in.
    await page.goto(`${s.server.url}/login`);
    await page.getByRole('link', { name: 'How the fleet performs' }).click();
    await page.getByRole('heading', { name: 'Performance of the fleet' }).waitFor();
    const rtx = page.getByRole('region', { name: 'NVIDIA RTX4090, 24 GiB' });
    await rtx.waitFor();
    expect(await rtx.textContent()).toContain('3 machines (3 GPUs) whose last audit passed');
    expect(await rtx.textContent()).toContain('availability $0.250 per GPU-hour');
    const row = rtx.getByRole('row', { name: /sysbench cpu per thread/ });
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells).toHaveLength(5);
    expect(Number(cells[2]!.replace(/,/g, ''))).toBeGreaterThan(1400);
    const small = page.getByRole('region', { name: 'NVIDIA RTX3090, 24 GiB' });
    expect(await small.textContent()).toContain(
      'Figures appear once at least 3 machines of this class are audited',
    );
    expect(await page.content()).not.toMatch(/node_|own_/);
    expect(page.url()).toBe(`${s.server.url}/performance`);
    await harness.screenshot(page, 'performance-01-public-board');
    expect(harness.problems).toEqual([]);
    await context.close();
  });

  it("the owner's machine page shows where it stands in its class", async () => {
    const { page, context } = await harness.newPage();
    await page.goto(`${s.server.url}/login`);
    await page.getByLabel('API token').fill(await s.server.tokenFor('owner', nodes[0]!.ownerId));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'My machines' }).waitFor();
    await page.goto(`${s.server.url}/nodes/${nodes[0]!.nodeId}`);
    const standing = page.getByRole('region', { name: 'Compared with machines like it' });
    await standing.waitFor();
    const row = standing.getByRole('row', { name: /sysbench cpu per thread/ });
    expect(await row.getByRole('cell').last().textContent()).toMatch(/^(33|67|100) %$/);
    await harness.screenshot(page, 'performance-02-owner-standing');
    expect(harness.problems).toEqual([]);
    await context.close();
  });
});
