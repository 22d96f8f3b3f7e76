/**
 * The public performance board on the real server: attested nodes from real (simulated) audits,
 * per GPU class counts and quantiles, the price from the rate card in force; no sign-in, no node
 * or owner ids; a class of fewer than three nodes shows its count only; an owner's machine's
 * standing in its class (another owner: 404; a machine not attested: NOT_ATTESTED).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import { type SimNode, auditSetup } from './audit-sim-support.js';

const RTX = 'nvidia/rtx4090/24Gi';
const RTX3090 = 'nvidia/rtx3090/24Gi';

type Board = {
  minNodesForFigures: number;
  rateCardVersion: number | null;
  classes: {
    gpuClass: string;
    nodes: number;
    gpus: number;
    availabilityUusdPerGpuHour: string | null;
    figures: {
      name: string;
      samples: number;
      p10: number;
      median: number;
      p90: number;
      medianPerUsd: number | null;
    }[];
  }[];
};

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

const rtx3090 = () =>
  rtx4090Hardware({
    gpus: [
      {
        vendor: 'nvidia',
        model: 'rtx3090',
        pciId: '10de:2204',
        memoryBytes: 24_576 * 1024 * 1024,
        uuid: 'GPU-7d2a4b1e-93c0-4f6e-8a15-2b9c0e4d7f31',
        driver: '550.54.15',
        name: 'NVIDIA GeForce RTX 3090',
      },
    ],
  });

async function setup() {
  const s = await auditSetup();
  cleanup.push(() => s.server.close());
  await s.server.api('POST', '/v1/rate-cards', {
    token: await s.server.tokenFor('reviewer'),
    body: {
      effectiveFrom: new Date(s.clock.now() - 60_000).toISOString(),
      rates: { [RTX]: { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' } },
    },
  });
  return s;
}

describe('the performance board', () => {
  it('needs no sign-in, shows no ids, and gives quantiles only for classes of three or more', async () => {
    const s = await setup();
    const owner = await s.server.createOwner();
    const nodes: SimNode[] = [];
    for (let i = 0; i < 3; i += 1) nodes.push(await s.node({ join: true, ownerId: owner.id }));
    nodes.push(await s.node({ join: true, hardware: rtx3090() }));
    await s.tick();
    for (const n of nodes) {
      // Each audit a few milliseconds apart: the simulated figures move a little with the time.
      s.clock.advance(3);
      const request = await n.answer('pass');
      await s.settled(n.nodeId, request.auditId);
    }

    const answer = await s.server.api<Board>('GET', '/v1/performance', { token: null });
    expect(answer.status).toBe(200);
    const text = JSON.stringify(answer.body);
    expect(text).not.toMatch(/node_|own_/);
    expect(answer.body.minNodesForFigures).toBe(3);
    expect(answer.body.rateCardVersion).toBe(1);
    const [r3090, r4090] = answer.body.classes;
    expect(r3090).toMatchObject({
      gpuClass: RTX3090,
      nodes: 1,
      gpus: 1,
      availabilityUusdPerGpuHour: null,
      figures: [],
    });
    expect(r4090).toMatchObject({ gpuClass: RTX, nodes: 3, gpus: 3, availabilityUusdPerGpuHour: '200000' });
    const cpu = r4090!.figures.find((f) => f.name === 'cpuEventsPerSecPerThread')!;
    expect(cpu.samples).toBe(3);
    expect(cpu.p10).toBeLessThanOrEqual(cpu.median);
    expect(cpu.median).toBeLessThanOrEqual(cpu.p90);
    // The simulated audits measure about 1480 events/s per thread (±5 %); $0.20 per GPU-hour.
    expect(cpu.median).toBeGreaterThan(1400);
    expect(cpu.medianPerUsd).toBeCloseTo(cpu.median / 0.2, 1);

    // The owner's machine in its class: a percentile per figure; another owner: 404.
    const ownerToken = await s.server.tokenFor('owner', owner.id);
    const standing = await s.server.api<{
      classes: { gpuClass: string; nodes: number; figures: { name: string; percentile: number }[] }[];
    }>('GET', `/v1/nodes/${nodes[0]!.nodeId}/performance`, { token: ownerToken });
    expect(standing.status).toBe(200);
    expect(standing.body.classes[0]).toMatchObject({ gpuClass: RTX, nodes: 3 });
    const percentile = standing.body.classes[0]!.figures.find(
      (f) => f.name === 'cpuEventsPerSecPerThread',
    )!.percentile;
    expect([33, 67, 100]).toContain(percentile);
    const other = await s.server.tokenFor('owner', (await s.server.createOwner()).id);
    expect(
      (await s.server.api('GET', `/v1/nodes/${nodes[0]!.nodeId}/performance`, { token: other })).status,
    ).toBe(404);

    // A failed audit takes the machine off the board (after the 15-second cache).
    await s.server.api('POST', `/v1/nodes/${nodes[1]!.nodeId}/audits`);
    await s.tick();
    const failed = await nodes[1]!.answer('fail');
    await s.settled(nodes[1]!.nodeId, failed.auditId);
    s.clock.advance(16_000);
    const after = await s.server.api<Board>('GET', '/v1/performance', { token: null });
    expect(after.body.classes.find((c) => c.gpuClass === RTX)).toMatchObject({ nodes: 2, figures: [] });
    const off = await s.server.api<{ attested: boolean; classes: unknown[] }>(
      'GET',
      `/v1/nodes/${nodes[1]!.nodeId}/performance`,
      { token: ownerToken },
    );
    expect([off.status, off.body]).toEqual([200, { attested: false, classes: [] }]);
  });
});
