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
  shellEnabled: boolean;
}

export interface PresenceTrackerOptions {
  repo: PresenceRepository;
  now: () => number;
  newId: () => string;
  /** When the node was enrolled (upSeconds counts from there). */
  enrolledAt: (nodeId: string) => Promise<number | undefined>;
  /** How long a computed uptime may be reused. */
  cacheMs?: number;
  /** This server process in the replica registry: its death ends the intervals it wrote. */
  replicaId?: string;
}

const DAY = 24 * 3_600_000;

export class PresenceTracker implements PresenceSource {
  private readonly live = new Map<string, LiveSession>();
  /** Interval changes not yet written, by node and interval id. */
  private dirty = new Map<string, Map<string, PresenceWrite>>();
  /** Batches being written right now: still part of what `spans` knows until they are stored. */
  private readonly writing = new Set<Map<string, Map<string, PresenceWrite>>>();
  private readonly lastMetrics = new Map<string, NodeMetrics>();
  /** The node's spans other than its live interval, by interval id, as read at `at`. */
  private readonly spanCache = new Map<string, { at: number; from: number; spans: Map<string, Span> }>();

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
      shellEnabled: false,
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

  /** The agent said in `hello` whether it serves remote shells. */
  setShellEnabled(nodeId: string, enabled: boolean): void {
    const session = this.live.get(nodeId);
    if (session) session.shellEnabled = enabled;
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
      this.spanCache.delete(nodeId);
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
    this.spanCache.delete(nodeId);
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
      shellEnabled: session?.shellEnabled ?? false,
    };
  }

  /** The node's countable spans since `from`: stored, being written, not yet written, and live. */
  async spans(nodeId: string, from: number, now: number): Promise<Span[]> {
    return this.withLive(nodeId, await this.pastSpans(nodeId, from), now);
  }

  /** Stored, being written and not yet written spans, by interval id (the database read). */
  private async pastSpans(nodeId: string, from: number): Promise<Map<string, Span>> {
    const byId = new Map<string, Span>();
    for (const i of await this.options.repo.forNode(nodeId, from))
      byId.set(i.id, { start: i.startedAt, end: i.endedAt ?? i.lastSeenAt });
    const unwritten = [...this.writing].map((batch) => batch.get(nodeId));
    for (const w of [...unwritten, this.dirty.get(nodeId)].flatMap((m) => [...(m?.values() ?? [])]))
      byId.set(w.id, { start: w.startedAt, end: w.endedAt ?? w.lastSeenAt });
    return byId;
  }

  /** The past spans with the live interval, if any, running until `now`. */
  private withLive(nodeId: string, past: ReadonlyMap<string, Span>, now: number): Span[] {
    const byId = new Map(past);
    const session = this.live.get(nodeId);
    if (session?.interval) byId.set(session.interval.id, { start: session.interval.startedAt, end: now });
    return [...byId.values()];
  }

  private async uptime(nodeId: string, now: number): Promise<PresenceView['uptime']> {
    const enrolledAt = (await this.options.enrolledAt(nodeId)) ?? now - 7 * DAY;
    const from = Math.min(now - 7 * DAY, enrolledAt);
    // The past (a database read) may be a minute old, which lists of many nodes need; the live
    // interval is added now, so a node online for 50 s shows 50 s, not what it had a minute ago.
    let cached = this.spanCache.get(nodeId);
    if (!cached || now - cached.at >= (this.options.cacheMs ?? MINUTE_MS) || cached.from > from) {
      cached = { at: now, from, spans: await this.pastSpans(nodeId, from) };
      this.spanCache.set(nodeId, cached);
    }
    const spans = this.withLive(nodeId, cached.spans, now);
    return {
      last24h: round(uptimeFraction(spans, now - DAY, now)),
      last7d: round(uptimeFraction(spans, now - 7 * DAY, now)),
      upSeconds: upSeconds(spans, enrolledAt, now),
    };
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
      replicaId: this.options.replicaId ?? null,
    });
  }
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;
