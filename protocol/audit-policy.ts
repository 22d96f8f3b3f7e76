/**
 * The `audit` part of the policy (DESIGN.md "Continuous audits"): when the server audits, the
 * thresholds each check applies and the bounds of the suite on the node. Ops override any field
 * in the policy file (`HOMENODE_POLICY`); the rest keeps these defaults. The defaults are set so
 * that a healthy home GPU machine passes with a wide margin and a broken one fails: the measured
 * figures behind them are in docs/audits.md.
 */
import { Type, type Static } from 'typebox';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

const Num = (description: string) => Type.Number({ minimum: 0, description });
const Int = (minimum: number, maximum: number, description: string) =>
  Type.Integer({ minimum, maximum, description });

export const AuditThresholdsSchema = Type.Object(
  {
    gpuMaxIdleTempC: Type.Number({ minimum: 0, maximum: 150, description: 'hottest GPU allowed at idle' }),
    gpuMinPcieWidth: Int(1, 32, 'narrowest PCIe link (lanes) allowed'),
    gpuMinPcieGen: Int(1, 7, 'lowest PCIe generation the link must be able to reach'),
    gpuMaxUncorrectedEccErrors: Int(0, 1_000_000, 'uncorrectable ECC errors allowed since boot'),
    gpuMaxHardwareXidErrors: Int(0, 1_000_000, 'hardware Xid events allowed since the last audit'),
    cpuMinEventsPerSecPerThread: Num('sysbench cpu (prime limit 20000) per thread'),
    memoryMinMiBps: Num('sysbench memory bandwidth, read and write'),
    diskMinFreeBytes: Type.Integer({ minimum: 0, description: 'free space on the data disk' }),
    diskMinRandReadIops: Num('fio 4 KiB random read'),
    diskMinRandWriteIops: Num('fio 4 KiB random write'),
    diskMinSeqReadMiBps: Num('fio 1 MiB sequential read'),
    diskMinSeqWriteMiBps: Num('fio 1 MiB sequential write'),
    shmMinBytes: Type.Integer({ minimum: 0, description: 'size of /dev/shm' }),
    shmMinWriteMiBps: Num('writing to /dev/shm'),
    networkMinDownloadMbps: Num('download from the server, Mbit/s'),
    networkMinUploadMbps: Num('upload to the server, Mbit/s'),
    networkMaxRttMs: Num('median round trip to the server'),
    networkMaxDnsMs: Num("looking up the server's name"),
  },
  { additionalProperties: false },
);
export type AuditThresholds = Static<typeof AuditThresholdsSchema>;

/** Bounds of one suite run. Tests shrink them to keep the suite to seconds. */
export const AuditLimitsSchema = Type.Object(
  {
    maxSeconds: Int(5, 3600, 'the whole suite'),
    maxWriteBytes: Type.Integer({ minimum: 0, description: 'disk bytes the suite may write in all' }),
    cpuSeconds: Int(1, 600, 'sysbench cpu run time'),
    memorySeconds: Int(1, 600, 'sysbench memory run time per operation (read, write)'),
    diskFileBytes: Type.Integer({ minimum: MiB, description: 'the fio test file' }),
    diskRandWriteBytes: Type.Integer({ minimum: MiB, description: 'fio random writes at most' }),
    diskSecondsPerJob: Int(1, 600, 'each of the four fio jobs at most'),
    shmWriteBytes: Type.Integer({ minimum: MiB, description: 'written to /dev/shm (memory, not disk)' }),
    networkDownloadBytes: Type.Integer({ minimum: 0, maximum: 64 * MiB, description: 'download size' }),
    networkUploadBytes: Type.Integer({ minimum: 0, maximum: 32 * MiB, description: 'upload size' }),
    networkRttSamples: Int(1, 20, 'round trips measured (the median counts)'),
  },
  { additionalProperties: false },
);
export type AuditLimits = Static<typeof AuditLimitsSchema>;

/** A container image reference: registry/name[:tag][@sha256:digest], no spaces or shell characters. */
export const IMAGE_REFERENCE_PATTERN =
  '^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]{1,5})?(/[a-z0-9]+([._-][a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$';

export const AuditPolicySchema = Type.Object(
  {
    /** A passing node is audited again after this long (with jitter). */
    intervalHours: Type.Number({ minimum: 1, maximum: 24 * 30 }),
    /** Audits running at once across the fleet. */
    maxConcurrent: Type.Integer({ minimum: 1, maximum: 100_000 }),
    /** A failing or never-audited node is still paid for availability this long after the failure or approval. */
    graceMinutes: Type.Integer({ minimum: 0, maximum: 7 * 24 * 60 }),
    /** Waits before each re-audit after a failure; the last one repeats. */
    retryMinutes: Type.Array(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }), {
      minItems: 1,
      maxItems: 16,
    }),
    thresholds: AuditThresholdsSchema,
    limits: AuditLimitsSchema,
    /** The image the `gpu-runtime` check runs (`nvidia-smi -L`, injected by the NVIDIA runtime). */
    gpuRuntimeImage: Type.String({ maxLength: 256, pattern: IMAGE_REFERENCE_PATTERN }),
  },
  { additionalProperties: false },
);
export type AuditPolicy = Static<typeof AuditPolicySchema>;

export const AuditPolicyOverridesSchema = Type.Partial(
  Type.Object({
    ...AuditPolicySchema.properties,
    thresholds: Type.Partial(AuditThresholdsSchema, { additionalProperties: false }),
    limits: Type.Partial(AuditLimitsSchema, { additionalProperties: false }),
  }),
  { additionalProperties: false },
);
export type AuditPolicyOverrides = Static<typeof AuditPolicyOverridesSchema>;

export const DEFAULT_AUDIT_THRESHOLDS: Readonly<AuditThresholds> = Object.freeze({
  gpuMaxIdleTempC: 80,
  gpuMinPcieWidth: 8,
  gpuMinPcieGen: 3,
  gpuMaxUncorrectedEccErrors: 0,
  gpuMaxHardwareXidErrors: 0,
  cpuMinEventsPerSecPerThread: 150,
  memoryMinMiBps: 2000,
  diskMinFreeBytes: 20 * GiB,
  diskMinRandReadIops: 1000,
  diskMinRandWriteIops: 500,
  diskMinSeqReadMiBps: 100,
  diskMinSeqWriteMiBps: 50,
  shmMinBytes: 1 * GiB,
  shmMinWriteMiBps: 200,
  networkMinDownloadMbps: 25,
  networkMinUploadMbps: 5,
  networkMaxRttMs: 300,
  networkMaxDnsMs: 2000,
});

export const DEFAULT_AUDIT_LIMITS: Readonly<AuditLimits> = Object.freeze({
  maxSeconds: 300,
  maxWriteBytes: 512 * MiB,
  cpuSeconds: 10,
  memorySeconds: 5,
  diskFileBytes: 128 * MiB,
  diskRandWriteBytes: 64 * MiB,
  diskSecondsPerJob: 5,
  shmWriteBytes: 256 * MiB,
  networkDownloadBytes: 32 * MiB,
  networkUploadBytes: 8 * MiB,
  networkRttSamples: 5,
});

export const DEFAULT_AUDIT_POLICY: Readonly<AuditPolicy> = Object.freeze({
  intervalHours: 24,
  maxConcurrent: 50,
  graceMinutes: 120,
  retryMinutes: [30, 60, 120, 240, 360],
  thresholds: DEFAULT_AUDIT_THRESHOLDS,
  limits: DEFAULT_AUDIT_LIMITS,
  gpuRuntimeImage: 'docker.io/library/debian:bookworm-slim',
});

/** Defaults overlaid with (validated) overrides; always fresh objects. */
export function resolveAuditPolicy(overrides: AuditPolicyOverrides = {}): AuditPolicy {
  return {
    ...DEFAULT_AUDIT_POLICY,
    ...overrides,
    retryMinutes: [...(overrides.retryMinutes ?? DEFAULT_AUDIT_POLICY.retryMinutes)],
    thresholds: { ...DEFAULT_AUDIT_THRESHOLDS, ...overrides.thresholds },
    limits: { ...DEFAULT_AUDIT_LIMITS, ...overrides.limits },
  };
}

/** The wait before the re-audit after `failures` consecutive failures (1 = the first failure). */
export function retryDelayMinutes(policy: Pick<AuditPolicy, 'retryMinutes'>, failures: number): number {
  const ladder = policy.retryMinutes;
  const index = Math.min(Math.max(failures, 1), ladder.length) - 1;
  return ladder[index] ?? ladder[ladder.length - 1] ?? 360;
}

/** Disk bytes the fio jobs write: fio lays the file out, the sequential job rewrites it, then the random writes. */
export function diskWriteBytes(limits: Pick<AuditLimits, 'diskFileBytes' | 'diskRandWriteBytes'>): number {
  return 2 * limits.diskFileBytes + limits.diskRandWriteBytes;
}
