/**
 * An SDL's GPU request as the attribute keys Akash builds from it (akash-network/chain-sdk
 * `go/sdl/gpu.go`, `v2GPUNvidia.String` and `v2GPUAttributes.UnmarshalYAML`, at 55f1c68): one key
 * per `vendor.nvidia` entry, `vendor/nvidia/model/<model>`, then `/ram/<ram>` when the entry names
 * memory and `/interface/<interface>` when it names the interface (so both give the combined
 * `…/ram/24Gi/interface/pcie`); `vendor/nvidia/model/*` when no model is listed at all; each with
 * the value `true`, sorted by key. A provider offers them under `capabilities/gpu/`.
 */
import type { Attribute, GpuModelRequest } from './types.js';

export const ANY_GPU_MODEL = '*';

/** The Akash key of one requested GPU model, without the `capabilities/gpu/` prefix. */
export function gpuRequestKey(request: GpuModelRequest): string {
  let key = `vendor/nvidia/model/${request.model}`;
  if (request.ram) key += `/ram/${request.ram}`;
  if (request.interface) key += `/interface/${request.interface}`;
  return key;
}

/** The attribute keys Akash matches a GPU request against; `[]` lists no model (any model). */
export function gpuAttributeKeys(requests: readonly GpuModelRequest[]): Attribute[] {
  const keys = requests.length ? requests.map(gpuRequestKey) : [gpuRequestKey({ model: ANY_GPU_MODEL })];
  return keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((key) => ({ key, value: 'true' }));
}

/** The same keys as a provider must advertise them (`capabilities/gpu/vendor/nvidia/model/…`). */
export function providerGpuKey(sdlKey: string): string {
  return `capabilities/gpu/${sdlKey}`;
}
