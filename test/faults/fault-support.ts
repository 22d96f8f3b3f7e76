/** Shared set-up for fault tests: a fleet of simulated agents enrolled and approved on a server. */
import { enrollSimNodes } from '../../scripts/bench/fleet.js';
import { FleetAgent } from '../../scripts/sim/fleet-agent.js';

export async function approvedFleet(
  url: string,
  adminToken: string,
  count: number,
  agentUrl = url,
  options: Partial<ConstructorParameters<typeof FleetAgent>[0]> = {},
): Promise<FleetAgent[]> {
  const nodes = await enrollSimNodes(url, adminToken, count, 4);
  for (const n of nodes) {
    const res = await fetch(`${url}/v1/nodes/${n.nodeId}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    if (!res.ok) throw new Error(`approve ${n.nodeId}: ${res.status}`);
  }
  return nodes.map(
    (n) =>
      new FleetAgent({
        url: agentUrl,
        nodeId: n.nodeId,
        identity: n.identity,
        joins: true,
        minDelayMs: 100,
        maxDelayMs: 1000,
        heartbeatMs: 500,
        ...options,
      }),
  );
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A 5-second usage window ending now-ish, one GPU: small enough that tests send many. */
export function window(i: number): [number, number] {
  const to = Date.now() - 1000 + i;
  return [to - 5000, to];
}
