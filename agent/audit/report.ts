/**
 * The signed audit report (protocol/audit.ts): the suite's result as an `AuditReportPayload`,
 * signed like usage reports (compact JWS, EdDSA, the node's own key) and kept within the frame
 * limit: if it would not fit, details are shortened (the verdicts, summaries and figures stay).
 */
import { MAX_AUDIT_REPORT_JWS, type AuditCheck, type AuditReportPayload } from '../../protocol/audit.js';
import type { Identity } from '../state/state-store.js';
import { signPayload } from '../usage/usage-meter.js';
import { AGENT_VERSION } from '../version.js';
import { clampText } from './finding.js';
import type { SuiteResult } from './suite.js';

export function reportPayload(result: SuiteResult, auditId: string, nodeId: string): AuditReportPayload {
  return {
    auditId,
    nodeId,
    startedAt: result.startedAt,
    finishedAt: result.finishedAt,
    agentVersion: AGENT_VERSION,
    checks: result.checks,
    ...(result.skipped.length ? { skipped: result.skipped } : {}),
  };
}

const shorten = (checks: AuditCheck[], max: number): AuditCheck[] =>
  checks.map((c) => ({ ...c, detail: clampText(c.detail, max), fix: clampText(c.fix, max) }));

/** Sign the payload; shorter details until the JWS fits `MAX_AUDIT_REPORT_JWS`. */
export async function signAuditReport(identity: Identity, payload: AuditReportPayload): Promise<string> {
  let jws = await signPayload(identity, payload);
  for (const max of [512, 256, 96, 0]) {
    if (jws.length <= MAX_AUDIT_REPORT_JWS) return jws;
    jws = await signPayload(identity, { ...payload, checks: shorten(payload.checks, max) });
  }
  return jws;
}
