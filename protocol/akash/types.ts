/**
 * The shapes Akash's placement rules work on: what an SDL asks for (its placement groups, as
 * Akash's `DeploymentGroups` builds them) and what a fleet offers. Plain data, no behaviour.
 */
import type { GpuGroup, ProviderAttribute } from '../attributes.js';

/** A key/value pair, as Akash stores attributes on chain and in SDLs. */
export type Attribute = ProviderAttribute;

/** `signedBy` of a placement profile: auditor addresses whose signatures the deployer requires. */
export interface SignedBy {
  allOf: string[];
  anyOf: string[];
}

/** Where something is in the SDL text, 1-based, as the YAML parser counts. */
export interface SdlPosition {
  line: number;
  column: number;
}

/** A price per block for one compute profile (`pricing.<profile>` of a placement profile). */
export interface Price {
  denom: string;
  /** Decimal string as written, e.g. `1000` or `0.5`. */
  amount: string;
}

/** One `vendor.nvidia` entry of a GPU request. */
export interface GpuModelRequest {
  /** Akash model name as written in the SDL (`rtx4090`); `*` stands for any model. */
  model: string;
  /** Memory in Akash's notation (`24Gi`), when the SDL names it. */
  ram?: string;
  interface?: 'pcie' | 'sxm';
}

export interface GpuResource {
  units: number;
  /** The models asked for; one `{ model: '*' }` when the SDL names none. */
  models: GpuModelRequest[];
  /** The request as Akash's attribute keys (`vendor/nvidia/model/rtx4090/ram/24Gi`), sorted. */
  attributes: Attribute[];
}

export interface StorageVolume {
  name: string;
  bytes: number;
  /** `persistent` and `class`, as Akash normalises them; empty when the SDL gives none. */
  attributes: Attribute[];
}

export interface ComputeResources {
  cpuMillis: number;
  memoryBytes: number;
  storage: StorageVolume[];
  gpu: GpuResource;
}

/** One service deployed into a placement group (a resource unit of Akash's group spec). */
export interface ResourceUnit {
  service: string;
  profile: string;
  count: number;
  resources: ComputeResources;
  price: Price;
  /** Where the `deployment.<service>.<placement>` entry is. */
  position: SdlPosition;
}

/** One placement group: what a provider must have, and what it must run. */
export interface PlacementGroup {
  name: string;
  requirements: { attributes: Attribute[]; signedBy: SignedBy };
  resources: ResourceUnit[];
  /** Where `profiles.placement.<name>` is. */
  position: SdlPosition;
}

export interface Sdl {
  version: '2.0' | '2.1';
  /** Sorted by name, as Akash orders deployment groups. */
  groups: PlacementGroup[];
}

export interface SdlProblem extends SdlPosition {
  /** Where in the document, e.g. `profiles.compute.web.resources.gpu.units`. */
  path: string;
  message: string;
}

export type SdlParseResult = { ok: true; sdl: Sdl } | { ok: false; message: string; problems: SdlProblem[] };

/** An attribute a fleet holds, with the auditors whose signatures on it we hold. */
export interface SignedAttribute extends Attribute {
  auditors: readonly string[];
}

export interface FleetNode {
  id: string;
  attributes: readonly SignedAttribute[];
  /** The node's GPUs that are free to take work. */
  gpus: readonly GpuGroup[];
  /** Free CPU, memory and ephemeral storage; each is left unlimited when not given. */
  cpuMillis?: number;
  memoryBytes?: number;
  ephemeralBytes?: number;
}

export interface Fleet {
  nodes: readonly FleetNode[];
  /** Attributes of the provider as a whole (`region`, `organization`, …), shared by every node. */
  provider?: readonly SignedAttribute[];
}

export interface PlacementMatch {
  name: string;
  eligible: boolean;
  /** The nodes that would run the group (eligible), or those meeting all but capacity (not). */
  nodes: string[];
  /** Empty when eligible; otherwise the first unmet requirement, in words. */
  reasons: string[];
}
