/**
 * The daemon runs the audit suite when the server asks (`audit` frame) and answers with a signed
 * `audit-report`: the real agent over real WebSockets to the real server, through a relay that
 * injects the audit requests (the server's scheduler comes next) and records the agent's answers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactVerify, importJWK } from 'jose';
import { Compile } from 'typebox/compile';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUN_ORDER } from '../../agent/audit/suite.js';
import { IdentitySchema } from '../../agent/state/state-store.js';
import { AUDIT_CHECK_IDS, AuditReportPayloadSchema, auditReportProblems } from '../../protocol/audit.js';
import { startTestServer } from '../helpers/server.js';
import { startAgent, tempDir, type AgentProcess } from './agent-support.js';
import { FAST_INTERVALS } from './agent-daemon-support.js';
import { startAuditRelay } from './audit-relay.js';
import {
  AUDIT_STANDINS,
  FAST_AUDIT_POLICY,
  GPU0,
  auditPath,
  enrolledStateDir,
  requireTools,
} from './audit-support.js';

const checkIdentity = Compile(IdentitySchema);
const checkReport = Compile(AuditReportPayloadSchema);

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});
beforeAll(() => requireTools({ fio: 'fio', sysbench: 'sysbench' }));

async function setup() {
  const server = await startTestServer({ policy: FAST_AUDIT_POLICY });
  cleanup.push(() => server.close());
  const relay = await startAuditRelay(server.url);
  cleanup.push(() => relay.close());
  const stateDir = await enrolledStateDir(server, { joined: true });
  const dir = tempDir();
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      intervals: FAST_INTERVALS,
      paths: { spoolDir: join(dir, 'spool'), logFile: join(stateDir, 'agent.log') },
    }),
  );
  const agents: AgentProcess[] = [];
  cleanup.push(async () => {
    for (const a of agents) a.kill('SIGKILL');
    await Promise.all(agents.map((a) => a.done));
  });
  const identity: unknown = JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8'));
  if (!checkIdentity.Check(identity)) throw new Error('identity.json');
  const node = JSON.parse(readFileSync(join(stateDir, 'node.json'), 'utf8')) as { nodeId: string };
  return {
    relay,
    stateDir,
    nodeId: node.nodeId,
    publicKey: await importJWK(identity.publicKey, 'EdDSA'),
    start() {
      const agent = startAgent(
        ['run', '--server', relay.url, '--state-dir', stateDir, '--config', configPath],
        {
          path: auditPath(AUDIT_STANDINS.rtx4090, AUDIT_STANDINS.k3s),
        },
      );
      agents.push(agent);
      return agent;
    },
    record: () =>
      JSON.parse(readFileSync(join(stateDir, 'audit-last.json'), 'utf8')) as Record<string, unknown>,
  };
}

describe('audits requested over the control channel', () => {
  it('runs the full suite, reports progress and a signed report, and refuses a second audit meanwhile', async () => {
    const s = await setup();
    const agent = s.start();
    await s.relay.connected();
    await agent.waitFor('Status: pending');
    s.relay.inject({ type: 'audit', auditId: 'aud_first', heavy: true, gpus: [GPU0] });
    s.relay.inject({ type: 'audit', auditId: 'aud_second' });

    const busy = await s.relay.frame((f) => f.type === 'audit-error', 'audit-error');
    expect(busy).toEqual({
      type: 'audit-error',
      auditId: 'aud_second',
      code: 'AUDIT_BUSY',
      message: 'Audit aud_first is still running on this machine; ask again when it has finished.',
      runningAuditId: 'aud_first',
    });
    const reportFrame = await s.relay.frame((f) => f.type === 'audit-report', 'audit-report', 150_000);
    expect(reportFrame.auditId).toBe('aud_first');

    const progress = s.relay.captured.filter((f) => f.type === 'audit-progress');
    expect(progress.map((f) => [f.check, f.done, f.total])).toEqual(RUN_ORDER.map((id, i) => [id, i, 8]));

    const { payload, protectedHeader } = await compactVerify(String(reportFrame.jws), s.publicKey);
    expect(protectedHeader.alg).toBe('EdDSA');
    const report: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (!checkReport.Check(report))
      throw new Error(`report does not match the schema: ${JSON.stringify(report)}`);
    expect(auditReportProblems(report)).toEqual([]);
    expect(report).toMatchObject({ auditId: 'aud_first', nodeId: s.nodeId, agentVersion: '0.1.0' });
    expect(report.checks.map((c) => c.id)).toEqual([...AUDIT_CHECK_IDS]);
    expect(report.checks.find((c) => c.id === 'gpu')?.detail).toContain(
      'Every expected GPU is present (the GPUs this machine was approved with).',
    );
    expect(report.checks.find((c) => c.id === 'cpu')?.metrics.cpuEventsPerSec).toBeGreaterThan(0);
    // The server serves the network probe: real throughput over loopback.
    const network = report.checks.find((c) => c.id === 'network');
    expect(network?.status).toBe('pass');
    expect(network?.summary).toMatch(/^[\d,.]+ Mbit\/s down, [\d,.]+ Mbit\/s up, [\d.]+ ms round trip$/);
    expect(network?.metrics.networkDownloadMbps).toBeGreaterThan(0);
    expect(network?.metrics.networkUploadMbps).toBeGreaterThan(0);

    await agent.waitFor('Audit aud_first passed.');
    expect(s.record()).toMatchObject({
      trigger: 'server',
      auditId: 'aud_first',
      passed: true,
      expectedGpus: [GPU0],
    });
    expect(s.record().serverAuditAt).toBe(report.finishedAt);
  }, 180_000);

  it('keeps a report finished while the server is away and sends it on the next connection', async () => {
    const s = await setup();
    const agent = s.start();
    await s.relay.connected();
    await agent.waitFor('Status: pending');
    s.relay.state.refuse = true;
    s.relay.inject({ type: 'audit', auditId: 'aud_offline', heavy: false });
    // Cut once the agent has started (its first progress frame), before the light audit ends.
    await s.relay.frame((f) => f.type === 'audit-progress', 'audit-progress');
    s.relay.cutAll();
    await agent.waitFor('The report is sent when the server is reachable again.', 60_000);
    expect(s.relay.captured.some((f) => f.type === 'audit-report')).toBe(false);
    expect(typeof s.record().unsentJws).toBe('string');

    s.relay.state.refuse = false;
    const report = await s.relay.frame((f) => f.type === 'audit-report', 'the held report', 30_000);
    expect(report.auditId).toBe('aud_offline');
    const { payload } = await compactVerify(String(report.jws), s.publicKey);
    expect(JSON.parse(new TextDecoder().decode(payload))).toMatchObject({
      auditId: 'aud_offline',
      nodeId: s.nodeId,
    });
    await agent.waitFor('Sending the report of audit aud_offline');
    expect(s.record()).not.toHaveProperty('unsentJws');
  }, 120_000);
});
