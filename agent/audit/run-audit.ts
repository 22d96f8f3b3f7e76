/**
 * One audit from start to record, for the command line and the daemon alike: the lock (one audit
 * at a time on this machine), the context, the suite, and `audit-last.json`.
 */
import { auditPassed } from '../../protocol/audit.js';
import { acquireAuditLock, loadAuditRecord, saveAuditRecord, type AuditRecord } from './audit-state.js';
import { prepareAudit, type PrepareInput } from './prepare.js';
import { runAuditSuite, type SuiteOptions, type SuiteResult } from './suite.js';

export interface AuditRunInput extends PrepareInput {
  trigger: AuditRecord['trigger'];
  auditId?: string | undefined;
  onProgress?: SuiteOptions['onProgress'];
}

export type AuditRun =
  | { kind: 'done'; result: SuiteResult; passed: boolean; record: AuditRecord }
  | { kind: 'busy'; pid: number; what: string };

/** The next audit's expected GPUs (see `AuditRecord.expectedGpus`). */
export function nextExpectedGpus(
  fromServer: readonly string[] | undefined,
  previous: readonly string[] | undefined,
  seen: readonly string[],
): string[] {
  if (fromServer?.length) return [...fromServer];
  if (previous?.length) return [...previous];
  return [...seen];
}

export async function runAudit(input: AuditRunInput): Promise<AuditRun> {
  const what = input.auditId ? `audit ${input.auditId}` : 'a local audit (agent audit)';
  const locked = await acquireAuditLock(input.stateDir, what, new Date(input.now()).toISOString());
  if (!locked.ok) return { kind: 'busy', ...locked.holder };
  try {
    const previous = await loadAuditRecord(input.stateDir);
    const ctx = await prepareAudit(input);
    const result = await runAuditSuite(ctx, {
      serverUrl: input.server?.url,
      ...(input.onProgress ? { onProgress: input.onProgress } : {}),
    });
    const passed = auditPassed(result.checks);
    const serverAuditAt = input.trigger === 'server' ? result.finishedAt : previous?.serverAuditAt;
    const record: AuditRecord = {
      ...(input.auditId ? { auditId: input.auditId } : {}),
      trigger: input.trigger,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      passed,
      checks: result.checks,
      skipped: result.skipped,
      expectedGpus: nextExpectedGpus(
        input.trigger === 'server' ? input.expectGpus?.uuids : undefined,
        input.expectGpus?.uuids ?? previous?.expectedGpus,
        result.gpuUuids,
      ),
      ...(serverAuditAt ? { serverAuditAt } : {}),
    };
    await saveAuditRecord(input.stateDir, record);
    return { kind: 'done', result, passed, record };
  } finally {
    await locked.lock.release();
  }
}
