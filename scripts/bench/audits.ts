/**
 * `npm run bench -- audits --agents N [--cap C] [--audit-ms MS] [--json]`: N simulated nodes
 * (real protocol, real Ed25519 keys, one process) against the real server process. They are
 * enrolled, approved, connect and join; the server's scheduler then audits each once (the audit
 * after the join), at most `audit.maxConcurrent` at a time; each node answers after MS with a
 * signed report (the real suite takes minutes; the server's work per audit does not depend on it).
 * Measured: the most audits running at once (nodes' side, and the server's gauge), the time to
 * audit the whole fleet once, the server's CPU while auditing and in the steady state after.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { auditPolicyOf, resolvePolicy } from '../../protocol/policy.js';
import { FleetAgent } from '../sim/fleet-agent.js';
import { approveSimNodes, enrollSimNodes } from './fleet.js';
import { startServerProcess } from './server-process.js';
import { round } from './stats.js';

export interface AuditBenchOptions {
  agents: number;
  /** audit.maxConcurrent for the run (the policy's default when absent). */
  cap?: number;
  auditMs: number;
  log: (line: string) => void;
}

const STEADY_SECONDS = 20;

export async function benchAudits({
  agents,
  cap,
  auditMs,
  log,
}: AuditBenchOptions): Promise<Record<string, number>> {
  const env: Record<string, string> = { HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS: '1000000' };
  if (cap !== undefined) {
    const policyFile = join(tmpdir(), `homenode-bench-policy-${process.pid}.json`);
    writeFileSync(policyFile, JSON.stringify({ audit: { maxConcurrent: cap } }));
    env.HOMENODE_POLICY = policyFile;
  }
  const limit = cap ?? auditPolicyOf(resolvePolicy()).maxConcurrent;
  const server = await startServerProcess(env);
  const fleet: FleetAgent[] = [];
  let gaugeTimer: NodeJS.Timeout | undefined;
  try {
    log(`enrolling and approving ${agents} simulated nodes…`);
    const nodes = await enrollSimNodes(server.url, server.token, agents);
    await approveSimNodes(server.url, server.token, nodes);

    let running = 0;
    let maxRunning = 0;
    let started = 0;
    let firstStart = 0;
    let lastEnd = 0;
    const audited = new Set<string>();
    let allAudited: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allAudited = resolve));
    for (const n of nodes) {
      fleet.push(
        new FleetAgent({
          url: server.url,
          nodeId: n.nodeId,
          identity: n.identity,
          joins: true,
          audits: {
            verdict: () => 'pass',
            durationMs: auditMs,
            onAudit: (phase) => {
              if (phase === 'start') {
                started += 1;
                running += 1;
                maxRunning = Math.max(maxRunning, running);
                if (!firstStart) firstStart = performance.now();
                return;
              }
              running -= 1;
              lastEnd = performance.now();
              audited.add(n.nodeId);
              if (audited.size === nodes.length) allAudited();
            },
          },
        }),
      );
    }
    let maxGauge = 0;
    const readGauge = async () => {
      const text = await (await fetch(`${server.url}/metrics`)).text();
      maxGauge = Math.max(maxGauge, Number(/^homenode_audits_running (\d+)/m.exec(text)?.[1] ?? 0));
    };
    gaugeTimer = setInterval(() => void readGauge().catch(() => undefined), 500);

    log(
      `connecting ${agents} agents; each joins and is audited once (cap ${limit}, ${auditMs} ms per audit)…`,
    );
    const cpu0 = server.cpuSeconds();
    const t0 = performance.now();
    fleet.forEach((a, i) => setTimeout(() => a.start(), Math.floor(i / 100) * 50));
    let progress = 0;
    const reporter = setInterval(() => {
      if (audited.size - progress >= 1000 || audited.size === nodes.length) {
        progress = audited.size;
        log(`  ${audited.size} audited, ${running} running`);
      }
    }, 1000);
    await done;
    clearInterval(reporter);
    const auditingSeconds = (performance.now() - t0) / 1000;
    const auditingCpu = server.cpuSeconds() - cpu0;

    log(`steady state for ${STEADY_SECONDS} s (every node audited, none due)…`);
    const cpu1 = server.cpuSeconds();
    const t1 = performance.now();
    await new Promise((r) => setTimeout(r, STEADY_SECONDS * 1000));
    const steadyCpu = server.cpuSeconds() - cpu1;
    const steadySeconds = (performance.now() - t1) / 1000;
    await readGauge();

    const fleetSeconds = (lastEnd - firstStart) / 1000;
    return {
      agents,
      cap: limit,
      auditMs,
      serverOnOwnCore: server.pinned ? 1 : 0,
      auditsStarted: started,
      nodesAudited: audited.size,
      maxRunningOnNodes: maxRunning,
      maxRunningServerGauge: maxGauge,
      capExceeded: maxRunning > limit || maxGauge > limit ? 1 : 0,
      fleetAuditSeconds: round(fleetSeconds, 1),
      connectToAllAuditedSeconds: round(auditingSeconds, 1),
      auditsPerSecond: round(audited.size / fleetSeconds, 1),
      idealAuditsPerSecond: round(limit / (auditMs / 1000), 1),
      serverCpuPctAuditing: round((auditingCpu / auditingSeconds) * 100),
      serverCpuPctSteady: round((steadyCpu / steadySeconds) * 100),
      serverPeakRssMiB: round(server.peakRssMiB()),
    };
  } finally {
    clearInterval(gaugeTimer);
    await Promise.all(fleet.map((a) => a.stop(false)));
    await server.stop();
    server.cleanup();
  }
}
