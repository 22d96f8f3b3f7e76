/**
 * Helpers for the audit's integration tests: a node enrolled with a real identity (and, when asked,
 * joined: join.json as the agent writes it), the audit stand-ins first on PATH with the host's
 * real fio and sysbench behind them, and a policy that keeps the real benchmarks to seconds.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { joinStatePath } from '../../agent/join/apply-join.js';
import { generateIdentity } from '../../agent/state/identity.js';
import { createStateStore } from '../../agent/state/state-store.js';
import type { AuditCheck, AuditSkip } from '../../protocol/audit.js';
import type { PolicyOverrides } from '../../protocol/policy.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import type { TestServer } from '../helpers/server.js';
import { FIXTURES, tempDir } from './agent-support.js';

const MiB = 1024 * 1024;

export const AUDIT_STANDINS = {
  rtx4090: join(FIXTURES, 'bin-audit-rtx4090'),
  nodevices: join(FIXTURES, 'bin-audit-nodevices'),
  missingGpu: join(FIXTURES, 'bin-audit-missing-gpu'),
  ecc: join(FIXTURES, 'bin-audit-ecc'),
  thermal: join(FIXTURES, 'bin-audit-thermal'),
  pcieX4: join(FIXTURES, 'bin-audit-pcie-x4'),
  k3s: join(FIXTURES, 'bin-audit-k3s'),
};
export const K3S_FIXTURES = join(FIXTURES, 'k3s');
export const GPU0 = 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90';
export const GPU1 = 'GPU-8c1d2e3f-4a5b-4c6d-9e7f-0a1b2c3d4e5f';

/**
 * Real benchmarks, small: a second each, a 16 MiB fio file. Thresholds are low because this test
 * machine is shared and its figures are noisy; the tests assert that real figures were measured.
 */
export const FAST_AUDIT_POLICY: PolicyOverrides = {
  audit: {
    limits: {
      maxSeconds: 180,
      maxWriteBytes: 64 * MiB,
      cpuSeconds: 1,
      memorySeconds: 1,
      diskFileBytes: 16 * MiB,
      diskRandWriteBytes: 4 * MiB,
      diskSecondsPerJob: 1,
      shmWriteBytes: 8 * MiB,
      networkDownloadBytes: MiB,
      networkUploadBytes: MiB,
      networkRttSamples: 3,
    },
    thresholds: {
      cpuMinEventsPerSecPerThread: 1,
      memoryMinMiBps: 1,
      diskMinFreeBytes: 256 * MiB,
      diskMinRandReadIops: 1,
      diskMinRandWriteIops: 1,
      diskMinSeqReadMiBps: 1,
      diskMinSeqWriteMiBps: 1,
      shmMinBytes: MiB,
      shmMinWriteMiBps: 1,
    },
  },
};

/** Fail at once, naming the Debian package, when a real tool the test runs is missing. */
export function requireTools(tools: Record<string, string>): void {
  for (const [program, pkg] of Object.entries(tools)) {
    try {
      execFileSync(program, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      throw new Error(`${program} is not installed: apt-get install ${pkg} (Debian package ${pkg})`);
    }
  }
}

/** Stand-in dirs first, then the host's PATH (real fio, sysbench, coreutils). */
export function auditPath(...dirs: string[]): string {
  return [...dirs, process.env.PATH ?? ''].join(delimiter);
}

/** A PATH of only bash, cat, dirname (for the stand-ins) and nice, plus `dirs`: no fio, sysbench or k3s. */
export function barePath(...dirs: string[]): string {
  const box = tempDir('homenode-toolbox-');
  for (const tool of ['bash', 'cat', 'dirname', 'nice']) {
    const real = execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    symlinkSync(real, join(box, tool));
  }
  return [...dirs, box].join(delimiter);
}

export interface AuditJson {
  checks: AuditCheck[];
  skipped: AuditSkip[];
  startedAt: string;
  finishedAt: string;
  passed: boolean;
  policySource: 'server' | 'defaults';
}

export function checkOf(json: AuditJson, id: AuditCheck['id']): AuditCheck {
  const found = json.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} check in ${JSON.stringify(json)}`);
  return found;
}

/** A state dir for a node enrolled on `server` with a real identity; joined as nd-testnode if asked. */
export async function enrolledStateDir(server: TestServer, options: { joined: boolean }): Promise<string> {
  const dir = tempDir('homenode-audit-');
  const stateDir = join(dir, 'state');
  const identity = await generateIdentity(Date.now);
  const store = createStateStore(stateDir);
  await store.identity.save(identity);
  const owner = await server.createOwner();
  const { key } = await server.createKey(owner.id);
  const hardware = rtx4090Hardware();
  const enrolled = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
    token: null,
    body: {
      installationKey: key,
      publicKey: identity.publicKey,
      fingerprint: createHash('sha256').update(randomBytes(16)).digest('hex'),
      hardware,
      preflight: assessHardware(hardware, resolvePolicy()),
      agentVersion: '0.1.0',
    },
  });
  if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
  await store.node.save({
    nodeId: enrolled.body.nodeId,
    status: 'pending',
    serverUrl: server.url,
    fingerprint: 'test',
    enrolledAt: new Date().toISOString(),
  });
  if (options.joined) writeJoined(stateDir);
  return stateDir;
}

/** join.json as apply-join writes it after a successful join. */
export function writeJoined(stateDir: string): void {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    joinStatePath(stateDir),
    JSON.stringify({
      digest: 'sha256:test',
      nodeName: 'nd-testnode',
      wireguardInterface: 'hn0',
      wireguardConfigPath: join(stateDir, 'hn0.conf'),
      // Each node its own key: the server refuses a key another node holds.
      wireguardPublicKey: randomBytes(32).toString('base64'),
      appliedAt: new Date().toISOString(),
    }),
    { mode: 0o600 },
  );
}

export function calls(log: string): string[] {
  try {
    return readFileSync(log, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}
