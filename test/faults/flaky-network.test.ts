/**
 * Agents behind a connection that stalls and tears frames at random: every usage report is
 * eventually stored, and none twice.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { FleetAgent } from '../../scripts/sim/fleet-agent.js';
import { FAST_AGENTS, type TestServer, startTestServer } from '../helpers/server.js';
import { type ChaosProxy, startChaosProxy } from './chaos-proxy.js';
import { approvedFleet, until, window } from './fault-support.js';

describe('flaky network between agents and server', () => {
  let server: TestServer | undefined;
  let proxy: ChaosProxy | undefined;
  let fleet: FleetAgent[] = [];
  afterEach(async () => {
    await Promise.all(fleet.map((a) => a.stop(false)));
    await proxy?.close();
    await server?.close();
  });

  it('delivers every report exactly once despite cuts and stalls', async () => {
    // A cut every few dozen frames makes each agent reconnect far more often than a home line
    // does: its connect allowance (6, then one per 10 s) is lifted, as this is about delivery.
    server = await startTestServer({
      enrollRateLimit: { perAddress: 100_000 },
      control: { ...FAST_AGENTS, nodeConnectBurst: 1000 },
    });
    proxy = await startChaosProxy({
      target: { host: '127.0.0.1', port: server.port },
      cutChance: 0.04,
      stallChance: 0.1,
      stallMs: 150,
    });
    fleet = await approvedFleet(server.url, server.adminToken, 8, proxy.url);
    fleet.forEach((a) => a.start());
    const perAgent = 40;
    for (let i = 0; i < perAgent; i += 1) {
      const [from, to] = window(i);
      await Promise.all(fleet.map((a) => a.report(from, to, [{ leaseId: 'lease-7', gpus: 1, seconds: 5 }])));
      await new Promise((r) => setTimeout(r, 25));
    }
    await until(
      () => fleet.every((a) => a.unackedCount === 0 && a.acked.size === perAgent),
      60_000,
      'every report acked through the chaos',
    );
    expect(proxy.cuts).toBeGreaterThan(0);
    expect(proxy.stalls).toBeGreaterThan(0);
    const { repos } = server.app.homenode.context;
    for (const agent of fleet) {
      expect((await repos.usage.forNode(agent.options.nodeId)).map((r) => r.seq)).toEqual(
        Array.from({ length: perAgent }, (_, i) => i + 1),
      );
    }
    expect(fleet.reduce((n, a) => n + a.connects, 0)).toBeGreaterThan(fleet.length);
  });
});
