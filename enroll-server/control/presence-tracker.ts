/**
 * Live presence kept in memory and written to SQLite in batches (DESIGN.md "Scale"): nothing on the
 * heartbeat path waits on a disk write. A session counts towards uptime only while its node is
 * approved or active; `bye` closes the interval at once, a silent drop at the last sign of life.
 */
import type { NodeMetrics } from '../../protocol/control.js';
import { type Span, MINUTE_MS, upSeconds, uptimeFraction } from '../core/uptime.js';
import type { PresenceSource, PresenceView } from '../nodes/presence-view.js';
import type { PresenceRepository, PresenceWrite } from './presence-repository.js';

interface LiveSession {
  sessionId: string;
  nodeId: string;
  bootId: string | null;
  connectedAt: number;
  lastSeenAt: number;
  /** The persisted interval while the session counts towards uptime, else null. */
  interval: { id: string; startedAt: number } | null;
  metrics: NodeMetrics | null;
  metricsAt: number | null;
}

export interface PresenceTrackerOptions {
  repo: PresenceRepository;
  now: () => number;
  newId: () => string;
  /** When the node was enrolled (upSeconds counts from there). */
  enrolledAt: (nodeId: string) => Promise<number | undefined>;
  /** How long a computed uptime may be reused. */
  cacheMs?: number;
}

const DAY = 24 * 3_600_000;

export class PresenceTracker implements PresenceSource {
  private readonly live = new Map<string, LiveSession>();
  /** Interval changes not yet written, by node and interval id. */
  private dirty = new Map<string, Map<string, PresenceWrite>>();
  /** Batches being written right now: still part of what `spans` knows until they are stored. */
  private readonly writing = new Set<Map<string, Map<string, PresenceWrite>>>();
  private readonly lastMetrics = new Map<string, NodeMetrics>();
  private readonly uptimeCache = new Map<string, { at: number; view: PresenceView['uptime'] }>();

  constructor(private readonly options: PresenceTrackerOptions) {}

  /** A node authenticated; a previous session of the same node is closed first. */
  connect(nodeId: string, sessionId: string, bootId: string | null, countable: boolean): void {
    const now = this.options.now();
    const previous = this.live.get(nodeId);
    if (previous) this.disconnect(nodeId, previous.sessionId, 'replaced', true);
    const session: LiveSession = {
      sessionId,
      nodeId,
      bootId,
      connectedAt: now,
      lastSeenAt: now,
      interval: null,
      metrics: null,
      metricsAt: null,
    };
    this.live.set(nodeId, session);
    if (countable) this.openInterval(session, now);
  }

  /** Any sign of life: a frame, a pong. */
  seen(nodeId: string): void {
    const session = this.live.get(nodeId);
    if (!session) return;
    session.lastSeenAt = this.options.now();
    if (session.interval) this.markDirty(session, null, null);
  }

  heartbeat(nodeId: string, metrics: NodeMetrics): void {
    const session = this.live.get(nodeId);
    if (!session) return;
    session.metrics = metrics;
    session.metricsAt = this.options.now();
    this.lastMetrics.set(nodeId, metrics);
    this.seen(nodeId);
  }

  /** The node's status changed: start or stop counting its live session. */
  setCountable(nodeId: string, countable: boolean): void {
    const session = this.live.get(nodeId);
    if (!session) return;
    const now = this.options.now();
    if (countable && !session.interval) this.openInterval(session, now);
    if (!countable && session.interval) {
      this.markDirty(session, now, 'not-approved');
      session.interval = null;
    }
  }

  /** `clean` (bye, replaced, shutdown): the interval ends now; otherwise at the last sign of life. */
  disconnect(nodeId: string, sessionId: string, reason: string, clean: boolean): void {
    const session = this.live.get(nodeId);
    if (!session || session.sessionId !== sessionId) return;
    this.live.delete(nodeId);
    if (session.interval) {
      const end = clean ? Math.max(this.options.now(), session.lastSeenAt) : session.lastSeenAt;
      this.markDirty(session, end, reason);
    }
    this.uptimeCache.delete(nodeId);
  }

  isOnline(nodeId: string): boolean {
    return this.live.has(nodeId);
  }

  onlineNodeIds(): string[] {
    return [...this.live.keys()];
  }

  get connectedCount(): number {
    return this.live.size;
  }

  /** Write every changed interval in one transaction; how many were written. */
  async flush(): Promise<number> {
    const pending = this.dirty;
    const rows = [...pending.values()].flatMap((m) => [...m.values()]);
    if (rows.length === 0) return 0;
    this.dirty = new Map();
    this.writing.add(pending);
    try {
      await this.options.repo.write(rows);
    } catch (error) {
      // Nothing is lost when the disk is full: keep the rows, unless a newer change replaced them.
      for (const [nodeId, byId] of pending) {
        const current = this.dirty.get(nodeId) ?? new Map<string, PresenceWrite>();
        for (const [id, row] of byId) if (!current.has(id)) current.set(id, row);
        this.dirty.set(nodeId, current);
      }
      throw error;
    } finally {
      this.writing.delete(pending);
    }
    return rows.length;
  }

  /** Close every live session (server shutdown) and write everything. */
  async closeAll(reason: string): Promise<void> {
    for (const session of [...this.live.values()])
      this.disconnect(session.nodeId, session.sessionId, reason, true);
    await this.flush();
  }

  async view(nodeId: string, now: number): Promise<PresenceView> {
    const session = this.live.get(nodeId);
    const metrics = session?.metrics ?? this.lastMetrics.get(nodeId) ?? null;
    return {
      online: session !== undefined,
      lastSeenAt: session?.lastSeenAt ?? (await this.options.repo.lastSeenAt(nodeId)),
      uptime: await this.uptime(nodeId, now),
      metrics,
    };
  }

  /** The node's countable spans since `from`: stored, being written, not yet written, and live. */
  async spans(nodeId: string, from: number, now: number): Promise<Span[]> {
    const byId = new Map<string, Span>();
    for (const i of await this.options.repo.forNode(nodeId, from))
      byId.set(i.id, { start: i.startedAt, end: i.endedAt ?? i.lastSeenAt });
    const unwritten = [...this.writing].map((batch) => batch.get(nodeId));
    for (const w of [...unwritten, this.dirty.get(nodeId)].flatMap((m) => [...(m?.values() ?? [])]))
      byId.set(w.id, { start: w.startedAt, end: w.endedAt ?? w.lastSeenAt });
    const session = this.live.get(nodeId);
    if (session?.interval) byId.set(session.interval.id, { start: session.interval.startedAt, end: now });
    return [...byId.values()];
  }

  private async uptime(nodeId: string, now: number): Promise<PresenceView['uptime']> {
    const cached = this.uptimeCache.get(nodeId);
    // Fractions of a day and a week move slowly: a minute-old figure is good enough for lists.
    if (cached && now - cached.at < (this.options.cacheMs ?? MINUTE_MS)) return cached.view;
    const enrolledAt = (await this.options.enrolledAt(nodeId)) ?? now - 7 * DAY;
    const spans = await this.spans(nodeId, Math.min(now - 7 * DAY, enrolledAt), now);
    const view = {
      last24h: round(uptimeFraction(spans, now - DAY, now)),
      last7d: round(uptimeFraction(spans, now - 7 * DAY, now)),
      upSeconds: upSeconds(spans, enrolledAt, now),
    };
    this.uptimeCache.set(nodeId, { at: now, view });
    return view;
  }

  private openInterval(session: LiveSession, now: number): void {
    session.interval = { id: this.options.newId(), startedAt: now };
    this.markDirty(session, null, null);
  }

  private markDirty(session: LiveSession, endedAt: number | null, endReason: string | null): void {
    if (!session.interval) return;
    let forNode = this.dirty.get(session.nodeId);
    if (!forNode) this.dirty.set(session.nodeId, (forNode = new Map<string, PresenceWrite>()));
    forNode.set(session.interval.id, {
      id: session.interval.id,
      nodeId: session.nodeId,
      startedAt: session.interval.startedAt,
      lastSeenAt: Math.max(session.lastSeenAt, session.interval.startedAt),
      endedAt,
      endReason,
      bootId: session.bootId,
    });
  }
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;
