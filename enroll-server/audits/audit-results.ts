/**
 * How an audit ends: a verified signed report (passed or failed), the node's refusal (busy: asked
 * again later; the suite broke: `error`), or no answer before the deadline (`error`). Each outcome
 * is written with its node's new state and state interval in one transaction; the event is
 * published after the commit, and a failure asks the node for a diagnostics bundle.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AuditPolicy } from '../../protocol/audit-policy.js';
import { auditPassed } from '../../protocol/audit.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { Transactional } from '../core/transactions.js';
import type { AuditEvent, NodeEvents } from '../nodes/node-events.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { AuditOutcome, AuditRecord, AuditRepository } from './audit-repository.js';
import { verifyAuditReport, withOwnLinks } from './audit-report.js';
import { BUSY_RETRY_MS, waitText } from './audit-rules.js';
import { type Outcome, afterOutcome, firstState } from './audit-transitions.js';

/** Finished audits keep their full texts for the newest this many per node; older ones their figures. */
export const KEEP_FULL_AUDITS = 50;

export interface ResultDeps {
  repos: Transactional<{ audits: AuditRepository; nodes: NodeRepository; events: EventOutbox }>;
  policy: AuditPolicy;
  publicUrl: string;
  events: NodeEvents;
  now: () => number;
  random: () => number;
  log: FastifyBaseLogger;
  /** A failed audit of a connected node: collect its diagnostics (in the background). */
  onFailed: (audit: AuditRecord) => void;
  /** A slot is free or the schedule changed: run the scheduler soon. */
  kick: () => void;
}

export function createAuditResults(deps: ResultDeps) {
  const { repos, policy, log } = deps;

  /** Write the outcome, the node's new state and interval; the event to publish, if any. */
  async function record(audit: AuditRecord, outcome: AuditOutcome): Promise<AuditEvent | undefined> {
    const at = outcome.finishedAt;
    const failedChecks = (outcome.checks ?? []).filter((c) => c.status === 'fail');
    const published = await repos.transaction(async (tx) => {
      if (!(await tx.audits.finish(audit.id, outcome))) return undefined;
      const node = await tx.nodes.get(audit.nodeId);
      const prev = (await tx.audits.state(audit.nodeId)) ?? {
        ...firstState(audit.nodeId, at),
        nextAuditAt: null,
      };
      const open = (await tx.audits.intervals(audit.nodeId, at, at)).find((i) => i.endedAt === null);
      const last = prev.lastAuditId ? await tx.audits.get(prev.lastAuditId) : undefined;
      const previousFailed =
        last?.status === 'failed'
          ? (last.checks ?? []).filter((c) => c.status === 'fail').map((c) => c.id)
          : null;
      const result: Outcome = {
        auditId: audit.id,
        status: outcome.status,
        at,
        failedChecks: failedChecks.map((c) => c.id),
      };
      const next = afterOutcome(prev, result, open?.state ?? null, previousFailed, policy, deps.random);
      await tx.audits.saveState(next.state);
      if (next.interval) await tx.audits.startInterval(next.interval);
      if (outcome.checks) await tx.audits.compact(audit.nodeId, KEEP_FULL_AUDITS);
      if (!next.event || !node) return undefined;
      const event: AuditEvent = {
        type: next.event,
        nodeId: audit.nodeId,
        ownerId: node.ownerId,
        auditId: audit.id,
        failedChecks: failedChecks.map((c) => ({
          id: c.id,
          summary: c.summary,
          fix: c.fix,
          docUrl: c.docUrl,
        })),
      };
      // The owner is told (mail, webhooks) through the outbox, committed with the outcome.
      await tx.events.append(
        at,
        event.type === 'audit.failed'
          ? { ...event, type: 'audit.failed' }
          : { type: 'audit.passed', nodeId: event.nodeId, ownerId: event.ownerId, auditId: event.auditId },
      );
      return event;
    });
    if (published) deps.events.emitAudit(published);
    deps.kick();
    return published;
  }

  async function runningAudit(nodeId: string, auditId: string): Promise<AuditRecord | undefined> {
    const audit = await repos.audits.get(auditId);
    if (!audit || audit.nodeId !== nodeId) {
      log.warn(
        { event: 'audit_unknown', nodeId, auditId },
        'audit frame for an audit this node was not asked for',
      );
      return undefined;
    }
    if (audit.status !== 'running') {
      log.info(
        { event: 'audit_late', nodeId, auditId, status: audit.status },
        'audit frame after the audit ended',
      );
      return undefined;
    }
    return audit;
  }

  return {
    /** A signed report: the error to refuse the frame with, if it does not verify. */
    async report(nodeId: string, auditId: string, jws: string): Promise<string | undefined> {
      const audit = await runningAudit(nodeId, auditId);
      if (!audit) return undefined;
      const node = await repos.nodes.get(nodeId);
      if (!node) return undefined;
      const verified = await verifyAuditReport(jws, { auditId, nodeId, publicKey: node.publicKey });
      const at = deps.now();
      if (!verified.ok) {
        await record(audit, { status: 'error', finishedAt: at, error: verified.error });
        return verified.error;
      }
      const { report } = verified;
      const checks = withOwnLinks(report.checks, deps.publicUrl);
      const status = auditPassed(checks) ? 'passed' : 'failed';
      await record(audit, {
        status,
        finishedAt: at,
        checks,
        skipped: report.skipped ?? [],
        agentVersion: report.agentVersion,
      });
      if (status === 'failed') deps.onFailed(audit);
      return undefined;
    },

    /** The node will not report: busy (ask again in a while) or its suite broke (`error`). */
    async refused(nodeId: string, auditId: string, code: 'AUDIT_BUSY' | 'AUDIT_FAILED', message: string) {
      const audit = await runningAudit(nodeId, auditId);
      if (!audit) return;
      const at = deps.now();
      if (code === 'AUDIT_BUSY') {
        await repos.audits.requeue(audit.id, at + BUSY_RETRY_MS);
        log.info(
          { event: 'audit_busy', nodeId, auditId },
          'node busy with another audit; asking again later',
        );
        deps.kick();
        return;
      }
      await record(audit, {
        status: 'error',
        finishedAt: at,
        error: `The audit could not run on the machine: ${message}`,
      });
    },

    /** No report before the deadline. */
    async expire(audit: AuditRecord, now: number): Promise<void> {
      const waited = audit.startedAt === null ? 0 : now - audit.startedAt;
      await record(audit, {
        status: 'error',
        finishedAt: now,
        error: `The machine did not send its report within ${waitText(waited)}; it is asked again later.`,
      });
    },

    /** End queued and running audits of a node that was revoked or rejected. */
    async cancel(nodeId: string, reason: string): Promise<void> {
      const at = deps.now();
      await repos.transaction(async (tx) => {
        for (const audit of await tx.audits.openFor([nodeId]))
          await tx.audits.finish(audit.id, { status: 'error', finishedAt: at, error: reason });
        const state = await tx.audits.state(nodeId);
        if (state)
          await tx.audits.saveState({ ...state, nextAuditAt: null, nextTrigger: null, updatedAt: at });
      });
      deps.kick();
    },
  };
}
export type AuditResults = ReturnType<typeof createAuditResults>;
