/**
 * The hardware facts an agent reports (DESIGN.md "The enrollment body"), as schemas shared by the
 * agent (what it builds) and the server (what it validates). Unknown fields are allowed so that a
 * newer agent can send more; sizes are bounded so that nobody can post an unbounded document.
 */
import { Type, type Static } from 'typebox';

const Text = (maxLength = 256) => Type.String({ maxLength });
const Bytes = Type.Integer({ minimum: 0, maximum: 2 ** 53 - 1 });

export const CpuFactsSchema = Type.Object({
  arch: Type.String({ minLength: 1, maxLength: 32, description: 'what `uname -m` prints' }),
  vendor: Text(),
  model: Text(),
  cores: Type.Integer({ minimum: 0, maximum: 65_536 }),
  threads: Type.Integer({ minimum: 0, maximum: 65_536 }),
});

export const DiskFactsSchema = Type.Object({
  name: Text(128),
  sizeBytes: Bytes,
  model: Text(),
  removable: Type.Boolean(),
});

export const GpuFactsSchema = Type.Object({
  vendor: Text(64),
  /** Akash model name (`rtx4090`), or `unknown`. */
  model: Text(128),
  /** PCI `vendor:device`, lower-case hex, e.g. `10de:2684`. */
  pciId: Type.String({ pattern: '^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$' }),
  memoryBytes: Type.Optional(Bytes),
  uuid: Type.Optional(Text(128)),
  driver: Type.Optional(Text(64)),
  /** The marketing name as the driver or lspci prints it. */
  name: Type.Optional(Text()),
  /** PCI bus address, e.g. `0000:01:00.0`. */
  busId: Type.Optional(Text(64)),
});

/**
 * What `nvidia-smi` told about the driver (agent/probe/nvidia-smi.ts):
 * - `loaded`: it answered and listed GPUs;
 * - `no-devices`: the driver answers but finds no GPU ("No devices were found", exit 6);
 * - `not-loaded`: the kernel module is not loaded ("couldn't communicate with the NVIDIA driver", exit 9);
 * - `missing`: nvidia-smi is not installed;
 * - `failed`: any other failure (its exit code and first line are kept).
 */
export const NvidiaDriverFactsSchema = Type.Object({
  state: Type.Union([
    Type.Literal('loaded'),
    Type.Literal('no-devices'),
    Type.Literal('not-loaded'),
    Type.Literal('missing'),
    Type.Literal('failed'),
  ]),
  /** The driver's version: from nvidia-smi when loaded, else from the installed module (modinfo). */
  version: Type.Optional(Type.String({ pattern: '^[0-9]{2,4}(\\.[0-9]{1,4}){1,2}$' })),
  exitCode: Type.Optional(Type.Integer({ minimum: -1, maximum: 255 })),
  /** nvidia-smi's own first line of output. */
  message: Type.Optional(Type.String({ maxLength: 512 })),
});
export type NvidiaDriverFacts = Static<typeof NvidiaDriverFactsSchema>;

export const InterfaceFactsSchema = Type.Object({
  name: Text(64),
  mac: Text(64),
  ipv4: Type.Array(Type.String({ maxLength: 64 }), { maxItems: 64 }),
  defaultRoute: Type.Boolean(),
  virtual: Type.Optional(Type.Boolean()),
});

export const HardwareFactsSchema = Type.Object({
  cpu: CpuFactsSchema,
  memory: Type.Object({ totalBytes: Bytes }),
  disks: Type.Array(DiskFactsSchema, { maxItems: 256 }),
  gpus: Type.Array(GpuFactsSchema, { maxItems: 64 }),
  network: Type.Object({ interfaces: Type.Array(InterfaceFactsSchema, { maxItems: 256 }) }),
  os: Type.Object({ kernel: Text(), distro: Text() }),
  virtualization: Type.String({ maxLength: 64, description: '`none`, or the hypervisor found' }),
  /** Absent from agents before the driver shipped in the image; the gpu check then reads PCI ids only. */
  nvidiaDriver: Type.Optional(NvidiaDriverFactsSchema),
});

export type CpuFacts = Static<typeof CpuFactsSchema>;
export type DiskFacts = Static<typeof DiskFactsSchema>;
export type GpuFacts = Static<typeof GpuFactsSchema>;
export type InterfaceFacts = Static<typeof InterfaceFactsSchema>;
export type HardwareFacts = Static<typeof HardwareFactsSchema>;

/** What the agent learnt about reaching the server (not part of the hardware; never re-checked). */
export const ConnectivityFactsSchema = Type.Object({
  serverUrl: Text(2048),
  dnsOk: Type.Boolean(),
  reachable: Type.Boolean(),
  httpStatus: Type.Optional(Type.Integer()),
  captivePortal: Type.Boolean(),
  captivePortalLocation: Type.Optional(Text(2048)),
  /** Server clock minus ours, in seconds; null when the server's time was not learnt. */
  clockSkewSeconds: Type.Union([Type.Number(), Type.Null()]),
  error: Type.Optional(Text(1024)),
});
export type ConnectivityFacts = Static<typeof ConnectivityFactsSchema>;

export const PreflightFactsSchema = Type.Object({
  hardware: HardwareFactsSchema,
  connectivity: Type.Optional(ConnectivityFactsSchema),
});
export type PreflightFacts = Static<typeof PreflightFactsSchema>;

export const CheckStatusSchema = Type.Union([
  Type.Literal('pass'),
  Type.Literal('warn'),
  Type.Literal('fail'),
]);
export type CheckStatus = Static<typeof CheckStatusSchema>;

export const CheckSchema = Type.Object({
  id: Type.String({ maxLength: 64 }),
  status: CheckStatusSchema,
  summary: Type.String({ maxLength: 1024 }),
  detail: Type.String({ maxLength: 4096 }),
  fix: Type.String({ maxLength: 4096 }),
});
export type Check = Static<typeof CheckSchema>;
