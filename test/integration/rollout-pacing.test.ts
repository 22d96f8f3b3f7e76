/**
 * A rollout to more nodes than it may update at once (`rolloutInFlight`), with simulated nodes
 * that download the release, restart and say hello as the new version without reporting healthy
 * themselves: the server must see them back on the new version and free their slots, so the
 * rollout goes on to the rest instead of waiting for the offers to time out.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type FleetAgent } from '../../scripts/sim/fleet-agent.js';
import { approvedFleet, until } from '../faults/fault-support.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { upload } from './artifact-support.js';

let server: TestServer | undefined;
let fleet: FleetAgent[] = [];
afterEach(async () => {
  await Promise.all(fleet.map((a) => a.stop(false)));
  fleet = [];
  await server?.close();
});

describe('rollout pacing', { timeout: 90_000 }, () => {
  it('updates 8 nodes two at a time, each slot freed when its node says hello as the new version', async () => {
    server = await startTestServer({ deps: { rolloutTickMs: 200, rolloutInFlight: 2 } });
    expect((await upload(server, 'homenode-agent', '3.0.0', Buffer.alloc(64 * 1024, 7))).status).toBe(201);
    let downloading = 0;
    let most = 0;
    fleet = await approvedFleet(server.url, server.adminToken, 8, server.url, {
      updates: {
        reportHealthy: false,
        onDownload: (phase) => {
          downloading += phase === 'start' ? 1 : -1;
          most = Math.max(most, downloading);
        },
      },
    });
    fleet.forEach((a) => a.start());
    await until(
      () => fleet.every((a) => a.connected && a.status === 'active'),
      30_000,
      'the fleet to be active',
    );
    const ops = await server.tokenFor('ops');
    const created = await server.api<{ id: string }>('POST', '/v1/rollouts', {
      token: ops,
      body: {
        artifact: 'homenode-agent',
        version: '3.0.0',
        stages: [{ percent: 100, soakMinutes: 0 }],
        maxFailures: 1,
      },
    });
    expect(created.status).toBe(201);
    await until(() => fleet.every((a) => a.agentVersion === '3.0.0'), 30_000, 'every node on 3.0.0');
    await expect
      .poll(
        async () =>
          (
            await server!.api<{ counts: Record<string, number> }>('GET', `/v1/rollouts/${created.body.id}`, {
              token: ops,
            })
          ).body.counts,
        { timeout: 15_000, interval: 250 },
      )
      .toEqual({ healthy: 8 });
    expect(most).toBeLessThanOrEqual(2);
  });
});
