/** Which GPUs (class and count) a node has, as text: a change here needs a new approval. */
import { gpuClasses } from '../../protocol/attributes.js';
import type { HardwareFacts } from '../../protocol/hardware.js';

export function gpuSignature(hardware: HardwareFacts): string {
  const classes = [...gpuClasses(hardware)].map(([k, n]) => `${n}× ${k}`);
  const unknown = hardware.gpus.filter((g) => g.model === 'unknown').length;
  return [...classes.sort(), ...(unknown ? [`${unknown}× unrecognised`] : [])].join(', ');
}
