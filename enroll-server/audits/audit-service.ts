/**
 * Continuous audits on the server (DESIGN.md "Continuous audits", docs/audits.md "The server"):
 * the scheduler, the outcomes, the requests, and how audits follow the rest of the server: the
 * control channel's frames and sessions (`listener`), node status changes, and what node detail
 * and the fleet list show (`stateSource`). After a failure the node's diagnostics are collected.
 */
import type { FastifyBaseLogger } from 'fastify';
import { type AuditCheckId, GPU_UUID_PATTERN } from '../../protocol/audit.js';
import type { CommandName } from '../../protocol/control.js';
import { type Policy, auditPolicyOf } from '../../protocol/policy.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { Principal } from '../core/auth.js';
import type { EventOutbox } from '../core/domain-events.js';
import { NotFoundError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { AuditFrameListener } from '../control/audit-messages.js';
import type { CommandRepository } from '../control/command-repository.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import type { NodeEvents, NodeStatusEvent } from '../nodes/node-events.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { AuditRecord, AuditRepository } from './audit-repository.js';
import { createAuditRequests } from './audit-requests.js';
import { createAuditResults } from './audit-results.js';
import { staleAfterMs } from './audit-rules.js';
import { type AuditChannel, AuditScheduler } from './audit-scheduler.js';
import { createAuditStateSource } from './audit-state-source.js';

export const DIAGNOSTICS_TIMEOUT_MS = 120_000;
/** The summary lists at most this many distinct summaries per failing check. */
const SUMMARIES_PER_CHECK = 5;
const GPU_UUID = new RegExp(GPU_UUID_PATTERN);

/** The control hub, as audits use it. */
export interface AuditNodeChannel extends AuditChannel {
  runCommand(
    nodeId: string,
    id: string,
    name: CommandName,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<{ ok: boolean; output?: string; error?: string }>;
}

export interface AuditServiceDeps {
  repos: Transactional<{
    audits: AuditRepository;
    nodes: NodeRepository;
    flags: FlagRepository;
    commands: CommandRepository;
    activity: ActivityLog;
    /** Domain events for notifications (audit.failed, audit.passed), in the outcome's transaction. */
    events: EventOutbox;
  }>;
  channel: AuditNodeChannel;
  events: NodeEvents;
  policy: Policy;
  publicUrl: string;
  now: () => number;
  random?: () => number;
  log: FastifyBaseLogger;
  onTick?: (figures: { running: number; queued: number }) => void;
}

export interface AuditProgress {
  check: AuditCheckId;
  done: number;
  total: number;
}

export function createAuditService(deps: AuditServiceDeps) {
  const { repos, channel, log } = deps;
  const policy = auditPolicyOf(deps.policy);
  /** The latest progress of running audits (in memory: it only matters while they run). */
  const progress = new Map<string, AuditProgress>();
  const background = (work: Promise<unknown>, nodeId: string, what: string) =>
    work.catch((error: unknown) => log.error({ err: error, nodeId }, what));

  const kick = () => scheduler.kick();
  const results = createAuditResults({
    repos,
    policy,
    publicUrl: deps.publicUrl,
    events: deps.events,
    now: deps.now,
    random: deps.random ?? Math.random,
    log,
    onFailed: (audit) => void background(collectDiagnostics(audit), audit.nodeId, 'diagnostics failed'),
    kick,
  });
  const scheduler = new AuditScheduler({
    repos,
    channel,
    policy,
    now: deps.now,
    log,
    expire: async (audit, now) => {
      progress.delete(audit.id);
      await results.expire(audit, now);
    },
    gpusOf: async (nodeId) =>
      ((await repos.audits.approvedHardware(nodeId))?.gpus ?? [])
        .map((g) => g.uuid ?? '')
        .filter((uuid) => GPU_UUID.test(uuid)),
    onTick: deps.onTick,
  });
  const requests = createAuditRequests({ repos, policy: deps.policy, now: deps.now, kick });

  /** Ask a failing node for its diagnostics bundle and attach it to the audit. */
  async function collectDiagnostics(audit: AuditRecord): Promise<void> {
    if (!channel.isConnected(audit.nodeId)) return;
    const id = newId('cmd');
    const name = 'collect-diagnostics';
    await repos.commands.create({
      id,
      nodeId: audit.nodeId,
      name,
      args: {},
      requestedBy: null,
      requestedAt: deps.now(),
    });
    const outcome = await channel.runCommand(audit.nodeId, id, name, {}, DIAGNOSTICS_TIMEOUT_MS);
    await repos.commands.finish(id, deps.now(), outcome.ok, outcome.output ?? null, outcome.error ?? null);
    if (outcome.ok) await repos.audits.setDiagnostics(audit.id, id);
    else
      log.warn({ event: 'diagnostics_failed', nodeId: audit.nodeId, error: outcome.error }, 'no diagnostics');
  }

  const onStatus = (event: NodeStatusEvent) => {
    if (event.status === 'approved')
      void background(requests.approved(event.nodeId), event.nodeId, 'audit schedule failed');
    if (event.status === 'revoked' || event.status === 'rejected')
      void background(
        results.cancel(event.nodeId, `The machine was ${event.status}; its audits were cancelled.`),
        event.nodeId,
        'cancelling audits failed',
      );
  };

  const listener: AuditFrameListener = {
    report: async (nodeId, auditId, jws) => {
      progress.delete(auditId);
      return results.report(nodeId, auditId, jws);
    },
    progress: (_nodeId, message) =>
      progress.set(message.auditId, { check: message.check, done: message.done, total: message.total }),
    refused: async (nodeId, message) => {
      progress.delete(message.auditId);
      await results.refused(nodeId, message.auditId, message.code, message.message);
    },
    connected: () => kick(),
    disconnected: () => undefined,
    joined: (nodeId) => void background(requests.joined(nodeId), nodeId, 'join audit failed'),
    hardwareChanged: (nodeId) =>
      void background(requests.hardwareChanged(nodeId), nodeId, 'hardware audit failed'),
  };

  /** One audit of a node, or 404. */
  async function auditOf(nodeId: string, auditId: string): Promise<AuditRecord> {
    const audit = await repos.audits.get(auditId);
    if (!audit || audit.nodeId !== nodeId) throw new NotFoundError(`Audit ${auditId} not found.`);
    return audit;
  }

  const unsubscribe = deps.events.subscribe(onStatus);
  return {
    listener,
    stateSource: createAuditStateSource(repos.audits, policy),
    policy,
    /** Run the scheduler every `tickMs` (and whenever something changes). */
    start: (tickMs: number) => scheduler.start(tickMs),
    async stop(): Promise<void> {
      unsubscribe();
      await scheduler.stop();
    },
    /** One scheduler pass now (tests drive the clock by hand). */
    tick: () => scheduler.tick(),
    request: (principal: Principal, node: NodeRecord) => requests.request(principal, node),
    progressOf: (auditId: string) => progress.get(auditId) ?? null,

    audit: auditOf,
    history: (nodeId: string, limit: number, offset: number) => repos.audits.forNode(nodeId, limit, offset),

    /** The fleet's audit states and the checks failing nodes fail, most nodes first. */
    async summary(now: number) {
      const [states, running, queued, failing] = await Promise.all([
        repos.audits.stateCounts(now - staleAfterMs(policy)),
        repos.audits.countRunning(),
        repos.audits.countQueued(),
        repos.audits.failingChecks(),
      ]);
      const byCheck = new Map<
        string,
        { id: string; nodes: number; summaries: { summary: string; nodes: number }[] }
      >();
      for (const f of failing) {
        const entry = byCheck.get(f.checkId) ?? { id: f.checkId, nodes: 0, summaries: [] };
        entry.nodes += f.nodes;
        entry.summaries.push({ summary: f.summary, nodes: f.nodes });
        byCheck.set(f.checkId, entry);
      }
      const failingChecks = [...byCheck.values()]
        .sort((a, b) => b.nodes - a.nodes || a.id.localeCompare(b.id))
        .map((c) => ({ ...c, summaries: c.summaries.slice(0, SUMMARIES_PER_CHECK) }));
      return { states, running, queued, maxConcurrent: policy.maxConcurrent, failingChecks };
    },

    /** The diagnostics bundle collected after a failed audit. */
    async diagnostics(nodeId: string, auditId: string): Promise<{ id: string; text: string }> {
      const audit = await auditOf(nodeId, auditId);
      const run = audit.diagnosticsId ? await repos.commands.get(audit.diagnosticsId) : undefined;
      if (!run?.output) throw new NotFoundError(`No diagnostics were collected for audit ${auditId}.`);
      return { id: run.id, text: run.output };
    },
  };
}
export type AuditService = ReturnType<typeof createAuditService>;
