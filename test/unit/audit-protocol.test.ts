/** The audit contract in protocol/: schemas, limits, frames, links and the policy's audit part. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compactVerify, importJWK } from 'jose';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { signAuditReport } from '../../agent/audit/report.js';
import { generateIdentity } from '../../agent/state/identity.js';
import {
  AUDIT_CHECK_IDS,
  AUDIT_METRICS,
  AUDIT_TEXT_LIMITS,
  AuditCheckSchema,
  AuditReportPayloadSchema,
  MAX_AUDIT_REPORT_JWS,
  MAX_METRICS_PER_CHECK,
  NetProbeQuerySchema,
  NET_PROBE_MAX_DOWNLOAD_BYTES,
  auditDocUrl,
  auditPassed,
  auditReportProblems,
  type AuditReportPayload,
} from '../../protocol/audit.js';
import {
  DEFAULT_AUDIT_POLICY,
  IMAGE_REFERENCE_PATTERN,
  retryDelayMinutes,
} from '../../protocol/audit-policy.js';
import { AgentMessageSchema, MAX_FRAME_BYTES, ServerMessageSchema } from '../../protocol/control.js';
import { parsePolicy } from '../../agent/probe/connectivity.js';
import {
  CHECK_IDS,
  DEFAULT_POLICY,
  auditPolicyOf,
  PolicyOverridesSchema,
  PolicySchema,
  resolvePolicy,
} from '../../protocol/policy.js';

const check = Compile(AuditCheckSchema);
const report = Compile(AuditReportPayloadSchema);
const serverFrame = Compile(ServerMessageSchema);
const agentFrame = Compile(AgentMessageSchema);
const overrides = Compile(PolicyOverridesSchema);

const passing = {
  id: 'cpu',
  status: 'pass',
  summary: '900 events/s per thread on 32 threads',
  detail: '',
  fix: '',
  docUrl: 'https://homenode.example.com/docs/troubleshooting#cpu',
  metrics: { cpuEventsPerSecPerThread: 900, cpuThreads: 32 },
} as const;

function worstCaseReport(): AuditReportPayload {
  const metrics = Object.fromEntries(
    Array.from({ length: MAX_METRICS_PER_CHECK }, (_, i) => [
      `metric${i}PaddedToLookLikeRealNames`,
      1234567.89 + i,
    ]),
  );
  return {
    auditId: 'aud_0123456789abcdefghij',
    nodeId: 'node_0123456789abcdefghij',
    startedAt: '2026-11-02T10:00:00.000Z',
    finishedAt: '2026-11-02T10:04:59.999Z',
    agentVersion: '0.1.0',
    checks: AUDIT_CHECK_IDS.map((id) => ({
      id,
      status: 'fail' as const,
      summary: 'é'.repeat(AUDIT_TEXT_LIMITS.summary),
      detail: '"'.repeat(AUDIT_TEXT_LIMITS.detail),
      fix: '\\'.repeat(AUDIT_TEXT_LIMITS.fix),
      docUrl: `https://h/${'d'.repeat(AUDIT_TEXT_LIMITS.docUrl - 10)}`,
      metrics,
    })),
  };
}

describe('audit check and report schemas', () => {
  it('accepts a check with figures and refuses bad ids, statuses and metric names', () => {
    expect(check.Check(passing)).toBe(true);
    expect(check.Check({ ...passing, id: 'arch' })).toBe(false);
    expect(check.Check({ ...passing, status: 'ok' })).toBe(false);
    expect(check.Check({ ...passing, metrics: { 'cpu-events': 1 } })).toBe(false);
    expect(check.Check({ ...passing, metrics: { cpuEvents: '900' } })).toBe(false);
  });

  it('names every metric with its check and unit', () => {
    for (const [name, info] of Object.entries(AUDIT_METRICS)) {
      expect(name).toMatch(/^[a-z][A-Za-z0-9]{1,63}$/);
      expect(AUDIT_CHECK_IDS).toContain(info.check);
      expect(info.unit).not.toBe('');
    }
  });

  it('fits a report of eight full checks into one frame once signed', async () => {
    const payload = worstCaseReport();
    expect(report.Check(payload)).toBe(true);
    const identity = await generateIdentity(() => Date.parse('2026-11-02T10:00:00Z'));
    const jws = await signAuditReport(identity, payload);
    expect(jws.length).toBeLessThanOrEqual(MAX_AUDIT_REPORT_JWS);
    const frame = JSON.stringify({ type: 'audit-report', auditId: payload.auditId, jws });
    expect(Buffer.byteLength(frame)).toBeLessThan(MAX_FRAME_BYTES);
    expect(agentFrame.Check(JSON.parse(frame))).toBe(true);
    const { payload: signed } = await compactVerify(jws, await importJWK(identity.publicKey, 'EdDSA'));
    const back: unknown = JSON.parse(new TextDecoder().decode(signed));
    expect(report.Check(back)).toBe(true);
  });

  it('finds what a schema cannot: a check twice, and times out of order', () => {
    const base: AuditReportPayload = { ...worstCaseReport(), checks: [{ ...passing }] };
    expect(auditReportProblems(base)).toEqual([]);
    expect(auditReportProblems({ ...base, skipped: [{ id: 'cpu', reason: 'busy' }] })).toEqual([
      'check "cpu" appears more than once',
    ]);
    expect(auditReportProblems({ ...base, finishedAt: '2026-11-02T09:00:00Z' })).toEqual([
      'finishedAt is before startedAt',
    ]);
    expect(auditPassed([{ status: 'pass' }, { status: 'warn' }])).toBe(true);
    expect(auditPassed([{ status: 'fail' }])).toBe(false);
  });
});

describe('audit frames on the control channel', () => {
  it('carries audit requests to the agent and refuses ids that could reach a file or a log line', () => {
    expect(serverFrame.Check({ type: 'audit', auditId: 'aud_01', heavy: false, gpus: [] })).toBe(true);
    expect(serverFrame.Check({ type: 'audit', auditId: 'aud_01\nPostUp = rm -rf /' })).toBe(false);
    expect(serverFrame.Check({ type: 'audit', auditId: 'aud_01', gpus: ['GPU-; reboot'] })).toBe(false);
    expect(
      serverFrame.Check({
        type: 'audit',
        auditId: 'aud_01',
        gpus: ['GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90'],
      }),
    ).toBe(true);
  });

  it('carries progress, errors and reports from the agent', () => {
    expect(agentFrame.Check({ type: 'audit-progress', auditId: 'a', check: 'disk', done: 7, total: 8 })).toBe(
      true,
    );
    expect(
      agentFrame.Check({
        type: 'audit-error',
        auditId: 'a',
        code: 'AUDIT_BUSY',
        message: 'm',
        runningAuditId: 'b',
      }),
    ).toBe(true);
    expect(agentFrame.Check({ type: 'audit-error', auditId: 'a', code: 'OOPS', message: 'm' })).toBe(false);
    expect(
      agentFrame.Check({ type: 'audit-report', auditId: 'a', jws: 'x'.repeat(MAX_AUDIT_REPORT_JWS + 1) }),
    ).toBe(false);
  });
});

describe('troubleshooting links and the network probe', () => {
  it('points at the server docs, keeping a path prefix', () => {
    expect(auditDocUrl('https://homenode.example.com', 'gpu-runtime')).toBe(
      'https://homenode.example.com/docs/troubleshooting#gpu-runtime',
    );
    expect(auditDocUrl('https://example.com/homenode/', 'disk')).toBe(
      'https://example.com/homenode/docs/troubleshooting#disk',
    );
    expect(auditDocUrl(undefined, 'disk')).toBe('docs/troubleshooting.md#disk');
  });

  it('bounds the download size the server must serve', () => {
    const query = Compile(NetProbeQuerySchema);
    expect(query.Check({ bytes: 0 })).toBe(true);
    expect(query.Check({ bytes: NET_PROBE_MAX_DOWNLOAD_BYTES })).toBe(true);
    expect(query.Check({ bytes: NET_PROBE_MAX_DOWNLOAD_BYTES + 1 })).toBe(false);
    expect(query.Check({ bytes: 10, extra: 1 })).toBe(false);
  });
});

describe('the audit policy', () => {
  it('is part of the policy served at /v1/policy, with the schedule DESIGN names', () => {
    expect(Compile(PolicySchema).Check(DEFAULT_POLICY)).toBe(true);
    expect(DEFAULT_POLICY.audit).toMatchObject({
      intervalHours: 24,
      graceMinutes: 120,
      retryMinutes: [30, 60, 120, 240, 360],
    });
    expect(new RegExp(IMAGE_REFERENCE_PATTERN).test(DEFAULT_AUDIT_POLICY.gpuRuntimeImage)).toBe(true);
    expect(new RegExp(IMAGE_REFERENCE_PATTERN).test('docker.io/library/debian:bookworm-slim; rm -rf /')).toBe(
      false,
    );
  });

  it('lets a policy file override any single threshold or bound, keeping the rest', () => {
    const file = { audit: { thresholds: { gpuMinPcieWidth: 4 }, limits: { cpuSeconds: 2 } } };
    expect(overrides.Check(file)).toBe(true);
    const policy = resolvePolicy(file);
    expect(policy.audit.thresholds).toEqual({ ...DEFAULT_AUDIT_POLICY.thresholds, gpuMinPcieWidth: 4 });
    expect(policy.audit.limits.cpuSeconds).toBe(2);
    expect(policy.audit.limits.maxSeconds).toBe(DEFAULT_AUDIT_POLICY.limits.maxSeconds);
    expect(Compile(PolicySchema).Check(policy)).toBe(true);
    expect(overrides.Check({ audit: { thresholds: { gpuMinPcieWidht: 4 } } })).toBe(false);
    expect(overrides.Check({ audit: { limits: { cpuSeconds: 0 } } })).toBe(false);
  });

  it("is read from a server that predates audits, with the defaults (preflight's policy and welcome)", () => {
    const { audit: _audit, ...older } = DEFAULT_POLICY;
    const policy = parsePolicy({ ...older });
    if (!policy) throw new Error('the older policy was refused');
    expect(auditPolicyOf(policy)).toEqual(resolvePolicy().audit);
    const welcome = {
      type: 'welcome',
      nodeId: 'node_1',
      status: 'active',
      policy: older,
      serverTime: '2026-11-02T10:00:00Z',
    };
    expect(serverFrame.Check(welcome)).toBe(true);
  });

  it('climbs the retry ladder and stays on its last rung', () => {
    const ladder = DEFAULT_AUDIT_POLICY;
    expect([1, 2, 3, 4, 5, 6, 20].map((n) => retryDelayMinutes(ladder, n))).toEqual([
      30, 60, 120, 240, 360, 360, 360,
    ]);
  });
});

describe('the troubleshooting guide', () => {
  it('has a section for every audit check and every preflight check, named as the links expect', () => {
    const guide = readFileSync(join(import.meta.dirname, '../../docs/troubleshooting.md'), 'utf8');
    const headings = new Set([...guide.matchAll(/^## (\S+)$/gm)].map((m) => m[1]));
    for (const id of AUDIT_CHECK_IDS) expect(headings, id).toContain(id);
    for (const id of CHECK_IDS) expect(headings, id).toContain(`preflight-${id}`);
  });
});
