/**
 * The daemon's side of audits, kept light: the suite (audit-service and everything it runs) is
 * loaded on the first `audit` request, not at every start; a report finished while offline is
 * handed to the next connection's opening frames.
 */
import type { AuditRequest } from '../../protocol/audit.js';
import type { AgentMessage } from '../../protocol/control.js';
import type { AuditService, AuditServiceDeps } from './audit-service.js';
import { takeUnsentReport } from './audit-state.js';

export function createDaemonAudits(deps: AuditServiceDeps) {
  let service: Promise<AuditService> | undefined;
  const load = () =>
    (service ??= import('./audit-service.js').then(({ createAuditService }) => createAuditService(deps)));
  return {
    /** The server asked for an audit: start it (or refuse it) without holding up other frames. */
    request(request: AuditRequest): void {
      void load()
        .then((s) => s.handle(request))
        .catch((error: unknown) =>
          deps.log('error', 'audit_error', `The audit could not start: ${String(error)}`),
        );
    },
    /** Frames for a new connection: the report of an audit that finished while offline. */
    async opening(): Promise<AgentMessage[]> {
      const held = await takeUnsentReport(deps.stateDir);
      if (!held) return [];
      deps.log(
        'info',
        'audit_resend',
        `Sending the report of audit ${held.auditId}, finished while offline.`,
      );
      return [{ type: 'audit-report', auditId: held.auditId, jws: held.jws }];
    },
  };
}
