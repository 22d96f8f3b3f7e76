/**
 * Continuous audits (DESIGN.md "Continuous audits"): the check ids, one audit check, the signed
 * audit report, the audit frames of the control channel and the network probe that the server
 * serves to authenticated nodes. Pure: both the agent (which runs the suite) and the server (which
 * schedules audits and keeps their history) import it. Decisions are explained in docs/audits.md.
 */
import { Type, type Static } from 'typebox';
import { CheckStatusSchema } from './hardware.js';

export const AUDIT_CHECK_IDS = [
  'gpu',
  'gpu-runtime',
  'cpu',
  'memory',
  'disk',
  'shm',
  'network',
  'cluster',
] as const;
export type AuditCheckId = (typeof AUDIT_CHECK_IDS)[number];
export const AuditCheckIdSchema = Type.Enum(AUDIT_CHECK_IDS);

/** Audit ids are made by the server (`aud_…`); the agent only echoes them, but checks them first. */
export const AUDIT_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const AuditIdSchema = Type.String({ pattern: AUDIT_ID_PATTERN });
/** An NVIDIA GPU UUID as nvidia-smi prints it (`GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90`). */
export const GPU_UUID_PATTERN = '^GPU-[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$';
export const GpuUuidSchema = Type.String({ pattern: GPU_UUID_PATTERN });

/**
 * Metric names are lowerCamelCase and end in their unit (`cpuEventsPerSecPerThread`,
 * `diskRandReadIops`, `shmWriteMiBps`, `networkRttMs`, `gpuTempC`); values are finite numbers.
 * `AUDIT_METRICS` lists every name the agent sends, with its unit, for charts and the docs.
 */
export const METRIC_NAME_PATTERN = '^[a-z][A-Za-z0-9]{1,63}$';
export const MAX_METRICS_PER_CHECK = 24;
export const AuditMetricsSchema = Type.Record(Type.String({ pattern: METRIC_NAME_PATTERN }), Type.Number(), {
  maxProperties: MAX_METRICS_PER_CHECK,
  additionalProperties: false,
});
export type AuditMetrics = Static<typeof AuditMetricsSchema>;

/** Text limits per check, chosen so that a report of eight full checks still fits one frame. */
export const AUDIT_TEXT_LIMITS = { summary: 256, detail: 1536, fix: 768, docUrl: 512 } as const;

export const AuditCheckSchema = Type.Object({
  id: AuditCheckIdSchema,
  status: CheckStatusSchema,
  summary: Type.String({ maxLength: AUDIT_TEXT_LIMITS.summary }),
  detail: Type.String({ maxLength: AUDIT_TEXT_LIMITS.detail }),
  /** What the owner should do; empty when the check passed. */
  fix: Type.String({ maxLength: AUDIT_TEXT_LIMITS.fix }),
  /** The troubleshooting guide's section for this check (`auditDocUrl`). */
  docUrl: Type.String({ maxLength: AUDIT_TEXT_LIMITS.docUrl }),
  metrics: AuditMetricsSchema,
});
export type AuditCheck = Static<typeof AuditCheckSchema>;

/** A check that did not run at all (not joined, a workload is using the GPU, out of time). */
export const AuditSkipSchema = Type.Object({
  id: AuditCheckIdSchema,
  reason: Type.String({ maxLength: 512 }),
});
export type AuditSkip = Static<typeof AuditSkipSchema>;

const Iso = Type.String({ maxLength: 40 });

/** The payload of the compact JWS (EdDSA, the node's own key) in `audit-report`. */
export const AuditReportPayloadSchema = Type.Object({
  auditId: AuditIdSchema,
  nodeId: Type.String({ minLength: 1, maxLength: 128 }),
  startedAt: Iso,
  finishedAt: Iso,
  agentVersion: Type.String({ maxLength: 64 }),
  checks: Type.Array(AuditCheckSchema, { maxItems: AUDIT_CHECK_IDS.length }),
  skipped: Type.Optional(Type.Array(AuditSkipSchema, { maxItems: AUDIT_CHECK_IDS.length })),
});
export type AuditReportPayload = Static<typeof AuditReportPayloadSchema>;

/** The longest JWS an `audit-report` frame carries (the frame limit is 64 KiB). */
export const MAX_AUDIT_REPORT_JWS = 48 * 1024;

// ---- control-channel frames (added to the unions in control.ts) ----------------------------

/**
 * Server → agent: run the suite now. `heavy: false` runs only the health checks (no benchmarks);
 * `gpus` are the UUIDs the node was approved with, each of which must still be present.
 */
export const AuditRequestSchema = Type.Object({
  type: Type.Literal('audit'),
  auditId: AuditIdSchema,
  heavy: Type.Optional(Type.Boolean()),
  gpus: Type.Optional(Type.Array(GpuUuidSchema, { maxItems: 64 })),
});
export type AuditRequest = Static<typeof AuditRequestSchema>;

/** Agent → server: the finished audit. `jws` carries an `AuditReportPayload` with the same id. */
export const AuditReportMessageSchema = Type.Object({
  type: Type.Literal('audit-report'),
  auditId: AuditIdSchema,
  jws: Type.String({ maxLength: MAX_AUDIT_REPORT_JWS }),
});

/** Agent → server: a check is about to run (`done` checks of `total` are finished). */
export const AuditProgressSchema = Type.Object({
  type: Type.Literal('audit-progress'),
  auditId: AuditIdSchema,
  check: AuditCheckIdSchema,
  done: Type.Integer({ minimum: 0, maximum: AUDIT_CHECK_IDS.length }),
  total: Type.Integer({ minimum: 0, maximum: AUDIT_CHECK_IDS.length }),
});

export const AUDIT_ERROR_CODES = ['AUDIT_BUSY', 'AUDIT_FAILED'] as const;
/**
 * Agent → server: the audit will not produce a report. `AUDIT_BUSY`: another audit is running
 * (`runningAuditId`), ask again later; `AUDIT_FAILED`: the suite itself broke (not a finding).
 */
export const AuditErrorSchema = Type.Object({
  type: Type.Literal('audit-error'),
  auditId: AuditIdSchema,
  code: Type.Enum(AUDIT_ERROR_CODES),
  message: Type.String({ maxLength: 1024 }),
  runningAuditId: Type.Optional(AuditIdSchema),
});

// ---- the troubleshooting guide --------------------------------------------------------------

/** Served by the server with the dashboard; each check has a section whose anchor is its id. */
export const TROUBLESHOOTING_PATH = '/docs/troubleshooting';

/** `<server>/docs/troubleshooting#<check-id>` (also for preflight ids as `preflight-<id>`). */
export function auditDocUrl(serverUrl: string | undefined, anchor: string): string {
  if (!serverUrl) return `docs/troubleshooting.md#${anchor}`;
  try {
    const base = new URL(serverUrl);
    const prefix = base.pathname.replace(/\/+$/, '');
    return `${base.origin}${prefix}${TROUBLESHOOTING_PATH}#${anchor}`;
  } catch {
    return `docs/troubleshooting.md#${anchor}`;
  }
}

// ---- the network probe (served to nodes with their own JWT) ---------------------------------

/**
 * `GET NET_PROBE_PATH?bytes=N` answers `200` with exactly N bytes (`application/octet-stream`,
 * `cache-control: no-store`); `POST NET_PROBE_PATH` with a body of at most
 * `NET_PROBE_MAX_UPLOAD_BYTES` (`application/octet-stream`) answers `200 { bytes }`, the count it
 * read. Both need `Authorization: Bearer <jwt>`: a fresh connection JWT of the node (EdDSA, aud
 * `homenode-control`, sub the node id, unique jti, as for the control channel). Over the caps:
 * `400` (download) or `413` (upload); an unknown or refused node: `401`/`403`; more than
 * `NET_PROBE_MAX_REQUESTS_PER_MINUTE` per node: `429` with `Retry-After`.
 */
export const NET_PROBE_PATH = '/v1/net-probe';
export const NET_PROBE_MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;
export const NET_PROBE_MAX_UPLOAD_BYTES = 32 * 1024 * 1024;
export const NET_PROBE_MAX_REQUESTS_PER_MINUTE = 30;
export const NET_PROBE_CONTENT_TYPE = 'application/octet-stream';

export const NetProbeQuerySchema = Type.Object(
  { bytes: Type.Integer({ minimum: 0, maximum: NET_PROBE_MAX_DOWNLOAD_BYTES }) },
  { additionalProperties: false },
);
export const NetProbeUploadAnswerSchema = Type.Object({
  bytes: Type.Integer({ minimum: 0, maximum: NET_PROBE_MAX_UPLOAD_BYTES }),
});

// ---- the figures, for charts and the performance board --------------------------------------

export interface AuditMetricInfo {
  check: AuditCheckId;
  unit: string;
  description: string;
}

export const AUDIT_METRICS: Readonly<Record<string, AuditMetricInfo>> = Object.freeze({
  gpuCount: { check: 'gpu', unit: 'GPUs', description: 'GPUs the driver sees' },
  gpuMaxTempC: { check: 'gpu', unit: '°C', description: 'hottest GPU at the time of the audit' },
  gpuMinPcieWidth: { check: 'gpu', unit: 'lanes', description: 'narrowest current PCIe link' },
  gpuMinPcieGenMax: { check: 'gpu', unit: 'generation', description: 'lowest PCIe generation possible' },
  gpuUncorrectedEccErrors: { check: 'gpu', unit: 'errors', description: 'uncorrectable ECC since boot' },
  gpuXidErrors: { check: 'gpu', unit: 'events', description: 'Xid events since the last audit' },
  gpuHardwareXidErrors: { check: 'gpu', unit: 'events', description: 'Xid events that mean hardware faults' },
  gpuRuntimeVisibleGpus: { check: 'gpu-runtime', unit: 'GPUs', description: 'GPUs a container sees' },
  cpuEventsPerSec: { check: 'cpu', unit: 'events/s', description: 'sysbench cpu, all threads' },
  cpuEventsPerSecPerThread: { check: 'cpu', unit: 'events/s', description: 'sysbench cpu per thread' },
  cpuThreads: { check: 'cpu', unit: 'threads', description: 'threads the benchmark used' },
  cpuLatencyP95Ms: { check: 'cpu', unit: 'ms', description: '95th percentile time per event' },
  memoryWriteMiBps: { check: 'memory', unit: 'MiB/s', description: 'sysbench memory, write' },
  memoryReadMiBps: { check: 'memory', unit: 'MiB/s', description: 'sysbench memory, read' },
  diskFreeBytes: { check: 'disk', unit: 'bytes', description: 'free space on the data disk' },
  diskRandReadIops: { check: 'disk', unit: 'IOPS', description: 'fio 4 KiB random read' },
  diskRandWriteIops: { check: 'disk', unit: 'IOPS', description: 'fio 4 KiB random write' },
  diskSeqReadMiBps: { check: 'disk', unit: 'MiB/s', description: 'fio 1 MiB sequential read' },
  diskSeqWriteMiBps: { check: 'disk', unit: 'MiB/s', description: 'fio 1 MiB sequential write' },
  diskWrittenBytes: { check: 'disk', unit: 'bytes', description: 'bytes the benchmark wrote' },
  shmSizeBytes: { check: 'shm', unit: 'bytes', description: 'size of /dev/shm' },
  shmFreeBytes: { check: 'shm', unit: 'bytes', description: 'free space in /dev/shm' },
  shmWriteMiBps: { check: 'shm', unit: 'MiB/s', description: 'writing to /dev/shm' },
  networkDownloadMbps: { check: 'network', unit: 'Mbit/s', description: 'download from the server' },
  networkUploadMbps: { check: 'network', unit: 'Mbit/s', description: 'upload to the server' },
  networkRttMs: { check: 'network', unit: 'ms', description: 'median round trip to the server' },
  networkDnsMs: { check: 'network', unit: 'ms', description: "looking up the server's name" },
  clusterAllocatableGpus: { check: 'cluster', unit: 'GPUs', description: 'nvidia.com/gpu allocatable' },
});

// ---- pure rules both sides use ---------------------------------------------------------------

/** An audit passed when no check failed (warnings and skipped checks do not fail it). */
export function auditPassed(checks: readonly Pick<AuditCheck, 'status'>[]): boolean {
  return !checks.some((c) => c.status === 'fail');
}

/**
 * What a schema cannot say about a report: every check id at most once (in `checks` or in
 * `skipped`, not both) and times in order. Empty when the report is consistent.
 */
export function auditReportProblems(report: AuditReportPayload): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const id of [...report.checks.map((c) => c.id), ...(report.skipped ?? []).map((s) => s.id)]) {
    if (seen.has(id)) problems.push(`check "${id}" appears more than once`);
    seen.add(id);
  }
  const started = Date.parse(report.startedAt);
  const finished = Date.parse(report.finishedAt);
  if (!Number.isFinite(started) || !Number.isFinite(finished))
    problems.push('startedAt and finishedAt must be ISO times');
  else if (finished < started) problems.push('finishedAt is before startedAt');
  return problems;
}
