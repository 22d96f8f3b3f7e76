/**
 * A node's signed audit report (protocol/audit.ts): a compact JWS (EdDSA) by the node's own key
 * over `AuditReportPayload`. Verified, checked against the schema and `auditReportProblems`, and
 * matched to the audit the server asked for; then the links are our own (`docUrl` of each check is
 * rebuilt from its id, never taken from the node, since it ends up on a page).
 */
import { compactVerify, importJWK } from 'jose';
import { Compile } from 'typebox/compile';
import type { PublicJwk } from '../../protocol/api.js';
import {
  type AuditCheck,
  type AuditReportPayload,
  AuditReportPayloadSchema,
  auditDocUrl,
  auditReportProblems,
} from '../../protocol/audit.js';

const checkPayload = Compile(AuditReportPayloadSchema);

export type VerifiedReport = { ok: true; report: AuditReportPayload } | { ok: false; error: string };

export async function verifyAuditReport(
  jws: string,
  expected: { auditId: string; nodeId: string; publicKey: PublicJwk },
): Promise<VerifiedReport> {
  let payload: unknown;
  try {
    const verified = await compactVerify(jws, await importJWK(expected.publicKey, 'EdDSA'), {
      algorithms: ['EdDSA'],
    });
    payload = JSON.parse(new TextDecoder().decode(verified.payload));
  } catch {
    return { ok: false, error: 'The audit report signature does not verify with this node key.' };
  }
  if (!checkPayload.Check(payload)) {
    const first = checkPayload.Errors(payload)[0];
    return {
      ok: false,
      error: `The audit report is not valid${first ? `: ${first.instancePath || '/'} ${first.message}` : ''}.`,
    };
  }
  const problems = auditReportProblems(payload);
  if (problems.length > 0)
    return { ok: false, error: `The audit report is not consistent: ${problems.join('; ')}.` };
  if (payload.auditId !== expected.auditId || payload.nodeId !== expected.nodeId)
    return { ok: false, error: 'The audit report is for another audit or another node.' };
  return { ok: true, report: payload };
}

/** The checks as we keep and show them: our own troubleshooting links. */
export function withOwnLinks(checks: readonly AuditCheck[], publicUrl: string): AuditCheck[] {
  return checks.map((c) => ({ ...c, docUrl: auditDocUrl(publicUrl, c.id) }));
}
