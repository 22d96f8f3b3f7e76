/** Helpers for the Akash SDL and placement tests: fixture files, and SDLs built from a few choices. */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { parseSdl } from '../../protocol/akash/sdl/parse-sdl.js';
import type { FleetNode, GpuModelRequest, Sdl, SignedAttribute } from '../../protocol/akash/types.js';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import type { HardwareFacts } from '../../protocol/hardware.js';

export const OUR_AUDITOR = 'hn-auditor-4f2a9c';
/** The auditor Akash's documentation examples name (Overclock Labs). */
export const AKASH_AUDITOR = 'akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63';

export function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/akash/${name}`, import.meta.url), 'utf8');
}

/** The 1-based line of the first line of `text` that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  return text.split('\n').findIndex((l) => l.includes(needle)) + 1;
}

/** Parse an SDL the test expects to be valid. */
export function sdlOf(text: string): Sdl {
  const result = parseSdl(text);
  if (!result.ok) throw new Error(`expected a valid SDL: ${JSON.stringify(result.problems)}`);
  return result.sdl;
}

export interface SdlChoices {
  version?: string;
  attributes?: Record<string, string>;
  signedBy?: { allOf?: string[]; anyOf?: string[] };
  /** GPU units and models; `models: []` asks for any model. */
  gpu?: { units: number; models: Partial<Record<keyof GpuModelRequest, string>>[] };
  count?: number;
  storage?: unknown;
}

/** One service `app` on placement `home`, with the choices made; YAML text. */
export function buildSdl(c: SdlChoices = {}): string {
  const resources: Record<string, unknown> = {
    cpu: { units: 1 },
    memory: { size: '1Gi' },
    storage: c.storage ?? { size: '1Gi' },
  };
  if (c.gpu)
    resources.gpu = {
      units: c.gpu.units,
      attributes: { vendor: { nvidia: c.gpu.models.length ? c.gpu.models : null } },
    };
  const placement: Record<string, unknown> = { pricing: { app: { denom: 'uakt', amount: 1000 } } };
  if (c.attributes) placement.attributes = c.attributes;
  if (c.signedBy) placement.signedBy = c.signedBy;
  return stringify({
    version: c.version ?? '2.0',
    services: { app: { image: 'nginx:1.27' } },
    profiles: { compute: { app: { resources } }, placement: { home: placement } },
    deployment: { app: { home: { profile: 'app', count: c.count ?? 1 } } },
  });
}

const gpuFacts = (pciId: string) => ({ vendor: 'nvidia', model: 'x', pciId });

/** A home machine with the GPUs given by PCI id (`10de:2684` is an RTX 4090). */
export function machine(pciIds: string[]): HardwareFacts {
  return {
    cpu: { arch: 'x86_64', vendor: 'AuthenticAMD', model: 'Ryzen 9 7950X', cores: 16, threads: 32 },
    memory: { totalBytes: 64 * 2 ** 30 },
    disks: [],
    gpus: pciIds.map(gpuFacts),
    network: { interfaces: [] },
    os: { kernel: '6.1', distro: 'Debian' },
    virtualization: 'none',
  };
}

/** A fleet node from a machine's derived profile, its attributes signed by `auditors`. */
export function fleetNode(
  id: string,
  pciIds: string[],
  auditors: string[] = [OUR_AUDITOR],
  extra: Partial<FleetNode> = {},
): FleetNode {
  const profile = deriveProviderProfile(machine(pciIds));
  const attributes: SignedAttribute[] = profile.attributes.map((a) => ({ ...a, auditors }));
  return { id, attributes, gpus: profile.gpus, ...extra };
}
