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

/** Six hours before this test file loaded: room for 4,320 five-second windows, all in the past. */
const WINDOWS_START = Date.now() - 6 * 3_600_000;

/**
 * The i-th 5-second usage window, one GPU: small enough that tests send many. A node's windows
 * follow each other without overlapping and all lie in the past, as the server requires (an
 * overlapping or future window is refused).
 */
export function window(i: number): [number, number] {
  const from = WINDOWS_START + i * 5000;
  return [from, from + 5000];
}
