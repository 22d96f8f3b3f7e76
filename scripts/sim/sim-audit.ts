/**
 * Simulated audit answers: a signed `audit-report` as the real agent sends it (the same payload
 * schema, the node's own Ed25519 key), with recorded healthy figures or a GPU that fell off the
 * bus. Used by the fleet simulator, the `audits` benchmark, the demo and tests.
 */
import { AUDIT_CHECK_IDS, type AuditCheck, type AuditCheckId, auditDocUrl } from '../../protocol/audit.js';
import { type SimIdentity, signPayload } from './sim-agent.js';

export type SimAuditVerdict = 'pass' | 'fail';

const PASS: Record<AuditCheckId, { summary: string; metrics: Record<string, number> }> = {
  gpu: {
    summary: '1 GPU healthy: NVIDIA GeForce RTX 4090, 38 °C, PCIe gen 4 x16',
    metrics: { gpuCount: 1, gpuMaxTempC: 38, gpuMinPcieWidth: 16, gpuMinPcieGenMax: 4, gpuXidErrors: 0 },
  },
  'gpu-runtime': { summary: 'A container sees 1 GPU', metrics: { gpuRuntimeVisibleGpus: 1 } },
  cpu: {
    summary: 'CPU: 1480 events/s per thread',
    metrics: {
      cpuEventsPerSec: 47_360,
      cpuEventsPerSecPerThread: 1480,
      cpuThreads: 32,
      cpuLatencyP95Ms: 0.7,
    },
  },
  memory: { summary: 'Memory: 21000 MiB/s', metrics: { memoryWriteMiBps: 21_000, memoryReadMiBps: 24_500 } },
  disk: {
    summary: 'Disk: 61000 random read IOPS, 1320 MiB/s sequential write, 1.6 TiB free',
    metrics: {
      diskFreeBytes: 1_759_218_604_441,
      diskRandReadIops: 61_000,
      diskRandWriteIops: 48_000,
      diskSeqReadMiBps: 2900,
      diskSeqWriteMiBps: 1320,
    },
  },
  shm: {
    summary: '/dev/shm: 32 GiB, 2400 MiB/s',
    metrics: { shmSizeBytes: 34_359_738_368, shmWriteMiBps: 2400 },
  },
  network: {
    summary: 'Network: 480 Mbit/s down, 42 Mbit/s up, 18 ms round trip',
    metrics: { networkDownloadMbps: 480, networkUploadMbps: 42, networkRttMs: 18, networkDnsMs: 4 },
  },
  cluster: {
    summary: 'k3s agent running, node Ready, 1 GPU allocatable',
    metrics: { clusterAllocatableGpus: 1 },
  },
};

function check(id: AuditCheckId, verdict: SimAuditVerdict, serverUrl: string, seed: number): AuditCheck {
  const docUrl = auditDocUrl(serverUrl, id);
  if (id === 'gpu' && verdict === 'fail') {
    return {
      id,
      status: 'fail',
      summary: 'The NVIDIA driver sees no GPU',
      detail:
        'nvidia-smi answered "No devices were found". The kernel log has Xid 79 (GPU has fallen off the bus).',
      fix: 'Switch off at the wall, reseat the graphics card and its power cables, then switch on.',
      docUrl,
      metrics: { gpuCount: 0, gpuXidErrors: 1, gpuHardwareXidErrors: 1 },
    };
  }
  const { summary, metrics } = PASS[id];
  // Figures move a little between audits, as measured ones do.
  const wobble = (v: number) => (v >= 100 ? Math.round(v * (0.95 + ((seed * 7919) % 100) / 1000)) : v);
  return {
    id,
    status: 'pass',
    summary,
    detail: '',
    fix: '',
    docUrl,
    metrics: Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, wobble(v)])),
  };
}

/** The signed report (compact JWS) of one simulated audit. */
export async function simAuditReport(
  identity: SimIdentity,
  nodeId: string,
  auditId: string,
  options: { verdict?: SimAuditVerdict; serverUrl?: string; startedAt?: number; finishedAt?: number } = {},
): Promise<string> {
  const finishedAt = options.finishedAt ?? Date.now();
  const startedAt = Math.min(options.startedAt ?? finishedAt, finishedAt);
  return signPayload(identity, {
    auditId,
    nodeId,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    agentVersion: 'sim-0.1.0',
    checks: AUDIT_CHECK_IDS.map((id) =>
      check(id, options.verdict ?? 'pass', options.serverUrl ?? '', finishedAt),
    ),
  });
}
