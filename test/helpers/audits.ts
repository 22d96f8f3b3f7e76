/**
 * Audits in tests with simulated nodes: ask for one as ops, let the scheduler start it (one tick),
 * answer the `audit` frame with a signed report and wait until the server has recorded it.
 */
import type { SimConnection, SimIdentity } from '../../scripts/sim/sim-agent.js';
import { type SimAuditVerdict, simAuditReport } from '../../scripts/sim/sim-audit.js';
import type { TestServer } from './server.js';

export interface AuditAnswer {
  id: string;
  status: string;
  checks: { id: string; status: string; summary: string; fix: string; docUrl: string }[];
  diagnosticsId: string | null;
}

/** Poll the node's audit until it has ended (the server handles frames concurrently). */
export async function waitForAudit(
  server: TestServer,
  nodeId: string,
  auditId: string,
  timeoutMs = 10_000,
): Promise<AuditAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await server.api<{ audits: AuditAnswer[] }>(
      'GET',
      `/v1/nodes/${nodeId}/audits?limit=50`,
    );
    const audit = body.audits.find((a) => a.id === auditId);
    if (audit && !['queued', 'running'].includes(audit.status)) return audit;
    if (Date.now() > deadline)
      throw new Error(`audit ${auditId} did not end within ${timeoutMs} ms: ${JSON.stringify(audit)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * One whole audit of a simulated node, as ops asks for it; the recorded audit. Audits the
 * scheduler started before (a due one) are answered the same way first.
 */
export async function simulateAudit(
  server: TestServer,
  conn: SimConnection,
  identity: SimIdentity,
  nodeId: string,
  verdict: SimAuditVerdict = 'pass',
): Promise<AuditAnswer> {
  const asked = await server.api<{ id: string }>('POST', `/v1/nodes/${nodeId}/audits`);
  if (asked.status !== 202) throw new Error(`audit request: ${asked.status} ${JSON.stringify(asked.body)}`);
  for (let round = 0; round < 5; round += 1) {
    await server.app.homenode.context.audits.tick();
    const request = await conn.next('audit');
    const jws = await simAuditReport(identity, nodeId, request.auditId, { verdict, serverUrl: server.url });
    conn.send({ type: 'audit-report', auditId: request.auditId, jws });
    const done = await waitForAudit(server, nodeId, request.auditId);
    if (request.auditId === asked.body.id) return done;
  }
  throw new Error(`audit ${asked.body.id} never started`);
}
