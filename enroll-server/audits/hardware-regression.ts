/**
 * Does a node's newly reported hardware still meet what it was approved with? Pure: the hardware
 * at approval, the hardware now and the policy in, the shortfalls in words out (empty when none).
 * A shortfall flags the node for ops and asks for an audit (DESIGN.md "Continuous audits").
 */
import type { HardwareFacts } from '../../protocol/hardware.js';
import type { Policy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';

/** Memory reported by the kernel moves a little between boots; less than this share is a loss. */
const MEMORY_TOLERANCE = 0.95;

const GiB = 1024 ** 3;
const gib = (bytes: number) => `${(bytes / GiB).toFixed(1)} GiB`;

export function hardwareShortfalls(
  approved: HardwareFacts,
  current: HardwareFacts,
  policy: Policy,
): string[] {
  const found: string[] = [];
  if (current.cpu.cores < approved.cpu.cores)
    found.push(`CPU cores: ${current.cpu.cores}, approved with ${approved.cpu.cores}`);
  if (current.cpu.threads < approved.cpu.threads)
    found.push(`CPU threads: ${current.cpu.threads}, approved with ${approved.cpu.threads}`);
  if (current.gpus.length < approved.gpus.length)
    found.push(`GPUs: ${current.gpus.length}, approved with ${approved.gpus.length}`);
  if (current.memory.totalBytes < approved.memory.totalBytes * MEMORY_TOLERANCE)
    found.push(`memory: ${gib(current.memory.totalBytes)}, approved with ${gib(approved.memory.totalBytes)}`);
  // A check the approved machine passed and this one fails: the change, not a newer policy, did it.
  const failedBefore = new Set(
    assessHardware(approved, policy)
      .filter((c) => c.status === 'fail')
      .map((c) => c.id),
  );
  for (const check of assessHardware(current, policy)) {
    // The LAN is not hardware, and a network change is no loss of capacity.
    if (check.status !== 'fail' || check.id === 'private-network' || failedBefore.has(check.id)) continue;
    found.push(check.summary);
  }
  return [...new Set(found)];
}
