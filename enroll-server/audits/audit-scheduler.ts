/**
 * The audit scheduler: a tick (every few seconds, and at once when something changes) that ends
 * overdue audits, queues audits that are due for connected nodes, and starts queued audits while
 * fewer than `audit.maxConcurrent` run across the fleet. The queue and the running audits are
 * rows in the database, so the cap holds across restarts (an audit whose node never answers
 * counts until its deadline) and a start is a compare-and-set inside the cap.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AuditPolicy } from '../../protocol/audit-policy.js';
import type { AuditRequest } from '../../protocol/audit.js';
import { newId } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { AuditRecord, AuditRepository } from './audit-repository.js';
import { TRIGGER_PRIORITY, reportDeadline } from './audit-rules.js';
import { firstState } from './audit-transitions.js';

/** How the scheduler reaches nodes (the control hub implements it). */
export interface AuditChannel {
  isConnected(nodeId: string): boolean;
  /** False when the node is not connected (the audit is queued again). */
  sendAudit(nodeId: string, request: AuditRequest): boolean;
}

export interface SchedulerDeps {
  repos: Transactional<{ audits: AuditRepository }>;
  channel: AuditChannel;
  policy: AuditPolicy;
  now: () => number;
  log: FastifyBaseLogger;
  /** An audit past its deadline: record it as `error` (audit-results.ts). */
  expire: (audit: AuditRecord, now: number) => Promise<void>;
  /** The GPU UUIDs the node was approved with (each must still be present). */
  gpusOf: (nodeId: string) => Promise<string[]>;
  /** Gauges: audits running and queued after each tick. */
  onTick?: (figures: { running: number; queued: number }) => void;
}

export interface TickFigures {
  expired: number;
  queued: number;
  started: number;
}

const PAGE = 500;
const MAX_PAGES = 40;
/** Approved nodes without a state row (approved before audits existed) are looked for this often. */
const SWEEP_EVERY_TICKS = 12;
/**
 * Kicks closer together than this share one tick: a burst (thousands of approvals, reports) costs a
 * tick per gap, not one per event (measured: approvals ran at half speed with a tick per event).
 */
const KICK_GAP_MS = 250;

export class AuditScheduler {
  private timer: NodeJS.Timeout | undefined;
  private kickTimer: NodeJS.Timeout | undefined;
  private lastRunAt = 0;
  private running: Promise<void> | undefined;
  private again = false;
  private ticks = 0;
  /** Until `start`, nothing runs by itself (tests call `tick`). */
  private started = false;
  private stopped = false;

  constructor(private readonly deps: SchedulerDeps) {}

  start(tickMs: number): void {
    this.started = true;
    this.timer = setInterval(() => this.kick(), tickMs);
    this.timer.unref();
    this.kick();
  }

  /** Run a tick soon: at most one per `KICK_GAP_MS` (real time: pacing, not the audit clock). */
  kick(): void {
    if (this.stopped || !this.started || this.kickTimer) return;
    const wait = Math.max(0, this.lastRunAt + KICK_GAP_MS - Date.now());
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      this.run();
    }, wait);
    this.kickTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.kickTimer);
    await this.running;
  }

  /** One tick at a time; a kick during a tick runs another right after it. */
  private run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.lastRunAt = Date.now();
    this.running = this.tick()
      .then(() => undefined)
      .catch((error: unknown) => this.deps.log.error({ err: error }, 'audit scheduler tick failed'))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One pass; exported for tests that drive the clock by hand. */
  async tick(): Promise<TickFigures> {
    const { repos, now: clock } = this.deps;
    const now = clock();
    let expired = 0;
    for (const audit of await repos.audits.overdue(now)) {
      await this.deps.expire(audit, now);
      expired += 1;
    }
    if (this.ticks % SWEEP_EVERY_TICKS === 0) await this.adoptUnscheduled(now);
    this.ticks += 1;
    const queued = await this.queueDue(now);
    const started = await this.startQueued(now);
    this.deps.onTick?.({
      running: await repos.audits.countRunning(),
      queued: await repos.audits.countQueued(),
    });
    return { expired, queued, started };
  }

  /** Nodes approved before audits existed get a schedule: audited as soon as a slot is free. */
  private async adoptUnscheduled(now: number): Promise<void> {
    const ids = await this.deps.repos.audits.nodesWithoutState(PAGE);
    if (ids.length === 0) return;
    await this.deps.repos.transaction(async (tx) => {
      for (const nodeId of ids)
        await tx.audits.saveState({ ...firstState(nodeId, now), nextAuditAt: now, nextTrigger: 'schedule' });
    });
    this.deps.log.info({ event: 'audit_adopted', nodes: ids.length }, 'scheduled first audits');
  }

  /** Due audits of connected nodes become queued; an offline node's due audit waits for it. */
  private async queueDue(now: number): Promise<number> {
    const { repos, channel } = this.deps;
    let queued = 0;
    let offset = 0;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const due = await repos.audits.due(now, PAGE, offset);
      const online = due.filter((d) => channel.isConnected(d.nodeId));
      if (online.length > 0) {
        await repos.transaction(async (tx) => {
          for (const { nodeId, trigger } of online) {
            const state = await tx.audits.state(nodeId);
            if (!state) continue;
            await tx.audits.create({
              id: newId('aud'),
              nodeId,
              trigger,
              priority: TRIGGER_PRIORITY[trigger],
              requestedAt: now,
              requestedBy: null,
              notBefore: now,
            });
            await tx.audits.saveState({ ...state, nextAuditAt: null, nextTrigger: null, updatedAt: now });
          }
        });
        queued += online.length;
      }
      if (due.length < PAGE) break;
      offset += due.length - online.length;
    }
    return queued;
  }

  /** Start queued audits of connected nodes while fewer than the cap run. */
  private async startQueued(now: number): Promise<number> {
    const { repos, channel, policy } = this.deps;
    const cap = policy.maxConcurrent;
    let free = cap - (await repos.audits.countRunning());
    let started = 0;
    let offset = 0;
    for (let page = 0; page < MAX_PAGES && free > 0; page += 1) {
      const candidates = await repos.audits.startable(now, PAGE, offset);
      let left = 0;
      for (const c of candidates) {
        if (free <= 0) break;
        if (!channel.isConnected(c.nodeId) || !(await this.startOne(c.id, c.nodeId, now, cap))) {
          left += 1;
          free = cap - (await repos.audits.countRunning());
          continue;
        }
        free -= 1;
        started += 1;
      }
      if (candidates.length < PAGE) break;
      offset += left;
    }
    return started;
  }

  private async startOne(id: string, nodeId: string, now: number, cap: number): Promise<boolean> {
    const { repos, channel, policy } = this.deps;
    if (!(await repos.audits.start(id, now, reportDeadline(now, policy), cap))) return false;
    const gpus = await this.deps.gpusOf(nodeId);
    const request: AuditRequest = {
      type: 'audit',
      auditId: id,
      heavy: true,
      ...(gpus.length ? { gpus } : {}),
    };
    if (channel.sendAudit(nodeId, request)) return true;
    await repos.audits.requeue(id, now);
    return false;
  }
}
