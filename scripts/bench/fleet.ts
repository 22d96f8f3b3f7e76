/** Enroll many simulated nodes through the real API (owners, keys, enrollments) for benchmarks and the demo. */
import { createHash, randomBytes } from 'node:crypto';
import type { EnrollRequest } from '../../protocol/api.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import { type SimIdentity, newSimIdentity } from '../sim/sim-agent.js';
import { runConcurrently } from './stats.js';

const GiB = 1024 ** 3;
const GPUS: [string, string, number][] = [
  ['10de:2684', 'rtx4090', 24],
  ['10de:2204', 'rtx3090', 24],
  ['10de:2782', 'rtx4070ti', 12],
  ['10de:20b5', 'a100', 80],
];

export function simHardware(i: number): HardwareFacts {
  const [pciId, model, mem] = GPUS[i % GPUS.length]!;
  const count = 1 + (i % 3 === 0 ? 1 : 0);
  return {
    cpu: { arch: 'x86_64', vendor: 'AuthenticAMD', model: 'AMD Ryzen 9 7950X', cores: 16, threads: 32 },
    memory: { totalBytes: 64 * GiB },
    disks: [
      { name: 'nvme0n1', sizeBytes: 2_000_398_934_016, model: 'Samsung SSD 990 PRO 2TB', removable: false },
    ],
    gpus: Array.from({ length: count }, (_, g) => ({
      vendor: 'nvidia',
      model,
      pciId,
      memoryBytes: mem * GiB,
      uuid: `GPU-${i}-${g}`,
      driver: '550.54.15',
    })),
    network: {
      interfaces: [
        { name: 'enp5s0', mac: '02:00:00:00:00:01', ipv4: [`192.168.${i % 250}.23/24`], defaultRoute: true },
      ],
    },
    os: { kernel: '6.1.0-18-amd64', distro: 'Debian GNU/Linux 12' },
    virtualization: 'none',
  };
}

export interface SimNode {
  nodeId: string;
  identity: SimIdentity;
  hardware: HardwareFacts;
}

export async function enrollSimNodes(
  url: string,
  adminToken: string,
  count: number,
  concurrency = 16,
): Promise<SimNode[]> {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const post = async (path: string, body: unknown, auth = true): Promise<Record<string, string>> => {
    // Busy (503) or rate limited (429): wait as told and send the same request again, as the agent does.
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(url + path, {
        method: 'POST',
        headers: auth ? headers : { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (res.ok) return (await res.json()) as Record<string, string>;
      const text = await res.text();
      if ((res.status !== 503 && res.status !== 429) || attempt === 10)
        throw new Error(`${path}: ${res.status} ${text}`);
      const wait = Number(res.headers.get('retry-after') ?? 1) * 1000;
      await new Promise((r) => setTimeout(r, wait * (0.5 + Math.random())));
    }
  };
  const owner = await post('/v1/owners', {
    email: `fleet-${Date.now()}-${randomBytes(3).toString('hex')}@example.com`,
    name: 'Fleet',
  });
  const keys: string[] = [];
  for (let i = 0; i < Math.ceil(count / 1000); i += 1)
    keys.push((await post('/v1/keys', { ownerId: owner.id, maxUses: 1000 })).key!);
  const policy = resolvePolicy();
  const nodes: SimNode[] = new Array<SimNode>(count);
  const run = await runConcurrently(count, concurrency, async (i) => {
    const identity = await newSimIdentity();
    const hardware = simHardware(i);
    const body: EnrollRequest = {
      // Round robin over the keys (each takes at most 1,000 uses), so that enrollments in flight
      // together count against different keys rather than queueing on one key's use count.
      installationKey: keys[i % keys.length]!,
      publicKey: identity.publicJwk,
      fingerprint: createHash('sha256').update(randomBytes(16)).digest('hex'),
      hardware,
      preflight: assessHardware(hardware, policy),
      agentVersion: 'sim-0.1.0',
    };
    const res = await post('/v1/enroll', body, false);
    nodes[i] = { nodeId: res.nodeId!, identity, hardware };
    return true;
  });
  if (run.failures > 0) throw new Error(`${run.failures} enrollments failed`);
  return nodes;
}

/** Approve every node (ops' POST /approve), 16 at a time; throws when any approval failed. */
export async function approveSimNodes(
  url: string,
  adminToken: string,
  nodes: readonly { nodeId: string }[],
): Promise<void> {
  const approved = await runConcurrently(nodes.length, 16, async (i) => {
    const res = await fetch(`${url}/v1/nodes/${nodes[i]!.nodeId}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    return res.ok;
  });
  if (approved.failures > 0) throw new Error(`${approved.failures} approvals failed`);
}
