/**
 * Audits the server asks for over the control channel (`audit`): one at a time; a request for
 * another audit while one runs is answered at once with `audit-error AUDIT_BUSY` (the server owns
 * the schedule and asks again), a repeat of the running one is ignored. Progress goes out as
 * `audit-progress`; the signed report as `audit-report`. A report finished while the channel is
 * down is kept in `audit-last.json` and sent when the next connection opens (`takeUnsentReport`).
 */
import type { AuditRequest } from '../../protocol/audit.js';
import type { AgentMessage } from '../../protocol/control.js';
import type { Policy } from '../../protocol/policy.js';
import type { Identity } from '../state/state-store.js';
import type { Exec } from '../system/exec.js';
import { saveAuditRecord, type AuditRecord } from './audit-state.js';
import { reportPayload, signAuditReport } from './report.js';
import { runAudit } from './run-audit.js';

export interface AuditServiceDeps {
  stateDir: string;
  exec: Exec;
  server: { url: string; serverPin: string | undefined };
  nodeId: string;
  identity: Identity;
  /** The policy from the last `welcome`. */
  policy: () => Policy;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Send on the live connection; false when there is none. */
  send: (message: AgentMessage) => boolean;
  onRecord: (record: AuditRecord) => void;
  log: (level: 'info' | 'warn' | 'error', event: string, message: string) => void;
}

export function createAuditService(deps: AuditServiceDeps) {
  let running: { auditId: string; done: Promise<void> } | undefined;

  async function execute(request: AuditRequest): Promise<void> {
    const { auditId } = request;
    deps.log('info', 'audit_started', `Audit ${auditId} requested by the server: running the checks.`);
    const run = await runAudit({
      exec: deps.exec,
      policy: deps.policy(),
      stateDir: deps.stateDir,
      heavy: request.heavy ?? true,
      expectGpus: request.gpus?.length
        ? { uuids: request.gpus, source: 'the GPUs this machine was approved with' }
        : undefined,
      server: deps.server,
      node: { nodeId: deps.nodeId, identity: deps.identity },
      now: deps.now,
      sleep: deps.sleep,
      trigger: 'server',
      auditId,
      onProgress: (check, done, total) => {
        deps.send({ type: 'audit-progress', auditId, check, done, total });
      },
    });
    if (run.kind === 'busy') {
      deps.send({
        type: 'audit-error',
        auditId,
        code: 'AUDIT_BUSY',
        message: `Another audit is running on this machine (${run.what}); ask again when it has finished.`,
      });
      return;
    }
    const jws = await signAuditReport(deps.identity, reportPayload(run.result, auditId, deps.nodeId));
    const sent = deps.send({ type: 'audit-report', auditId, jws });
    const record = sent ? run.record : { ...run.record, unsentJws: jws };
    if (!sent) await saveAuditRecord(deps.stateDir, record);
    deps.onRecord(record);
    const failed = run.result.checks.filter((c) => c.status === 'fail').map((c) => c.id);
    deps.log(
      failed.length ? 'warn' : 'info',
      'audit_finished',
      failed.length
        ? `Audit ${auditId} failed: ${failed.join(', ')}.${sent ? '' : ' The report is sent when the server is reachable again.'}`
        : `Audit ${auditId} passed.${sent ? '' : ' The report is sent when the server is reachable again.'}`,
    );
  }

  return {
    get runningAuditId(): string | undefined {
      return running?.auditId;
    },

    /** Start the audit in the background (the caller's frame handling goes on). */
    handle(request: AuditRequest): void {
      if (running?.auditId === request.auditId) return;
      if (running) {
        deps.send({
          type: 'audit-error',
          auditId: request.auditId,
          code: 'AUDIT_BUSY',
          message: `Audit ${running.auditId} is still running on this machine; ask again when it has finished.`,
          runningAuditId: running.auditId,
        });
        return;
      }
      const current = {
        auditId: request.auditId,
        done: execute(request)
          .catch((error: unknown) => {
            const message = `The audit could not run: ${error instanceof Error ? error.message : String(error)}`;
            deps.log('error', 'audit_error', message);
            deps.send({
              type: 'audit-error',
              auditId: request.auditId,
              code: 'AUDIT_FAILED',
              message: message.slice(0, 1024),
            });
          })
          .finally(() => {
            if (running === current) running = undefined;
          }),
      };
      running = current;
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
