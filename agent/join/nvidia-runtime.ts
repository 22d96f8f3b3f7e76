/**
 * Whether this machine has the NVIDIA container runtime where k3s looks for it. k3s checks, when its
 * agent starts, `/usr/local/nvidia/toolkit` (the GPU operator's place) then `/usr/bin` (the NVIDIA
 * container toolkit's packages) for `nvidia-container-runtime`, and adds an `nvidia` runtime
 * handler to its containerd config when one is there (k3s pkg/agent/containerd/runtimes.go). So
 * the agent writes no containerd template: it installs the toolkit, then (re)starts k3s.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';

export const NVIDIA_RUNTIME_DIRS = ['usr/local/nvidia/toolkit', 'usr/bin'] as const;
export const NVIDIA_RUNTIME_BINARY = 'nvidia-container-runtime';

/** The runtime k3s will find (as its path on the machine), or undefined. `root` is "/" but in tests. */
export async function findNvidiaRuntime(root: string): Promise<string | undefined> {
  for (const dir of NVIDIA_RUNTIME_DIRS) {
    const info = await stat(join(root, dir, NVIDIA_RUNTIME_BINARY)).catch(() => undefined);
    if (info?.isFile()) return `/${dir}/${NVIDIA_RUNTIME_BINARY}`;
  }
  return undefined;
}
