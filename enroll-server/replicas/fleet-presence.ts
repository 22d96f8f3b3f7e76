/**
 * Presence across replicas for the node views: a node is online when any live replica holds its
 * session. This replica's own nodes come from its presence tracker, as with one process; those
 * held elsewhere from the registry, with uptime from the stored presence. The registry is read
 * every `refreshMs` while someone looks at node views, and not at all while nobody does, so an
 * idle replica of a large fleet reads nothing; one node's detail reads its session directly, so it
 * is never behind (a node that moved a moment ago shows online wherever it is looked at).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { PresenceSource, PresenceView } from '../nodes/presence-view.js';
import type { ReplicaRepository } from './replica-repository.js';

export interface FleetPresenceDeps {
  local: PresenceSource;
  repos: { replicas: ReplicaRepository };
  replicaId: string;
  lapseMs: number;
  now: () => number;
  log: FastifyBaseLogger;
  /** False with a database of one process (SQLite): nothing is held elsewhere, nothing is read. */
  enabled: boolean;
  refreshMs?: number;
}

export class FleetPresence implements PresenceSource {
  private elsewhere = new Set<string>();
  private readonly timer: NodeJS.Timeout;
  private refreshing: Promise<void> | null = null;
  private readAt = 0;
  private askedAt = 0;
  private readonly refreshMs: number;

  constructor(private readonly deps: FleetPresenceDeps) {
    this.refreshMs = deps.refreshMs ?? 3_000;
    this.timer = setInterval(() => {
      // Kept fresh only while node views are being read (the last minute).
      if (this.deps.now() - this.askedAt < 60_000) void this.refresh();
    }, this.refreshMs);
    this.timer.unref();
    if (!deps.enabled) clearInterval(this.timer);
  }

  /** Someone looks at presence: from now on the registry is read regularly; true when it is stale. */
  private asked(): boolean {
    if (!this.deps.enabled) return false;
    const now = this.deps.now();
    this.askedAt = now;
    const stale = now - this.readAt >= this.refreshMs;
    if (stale) void this.refresh();
    return stale;
  }

  /** Read which nodes the other live replicas hold. */
  refresh(): Promise<void> {
    this.refreshing ??= this.deps.repos.replicas
      .heldElsewhere(this.deps.replicaId, this.deps.now(), this.deps.lapseMs)
      .then(
        (ids) => {
          this.elsewhere = new Set(ids);
          this.readAt = this.deps.now();
        },
        (error: unknown) =>
          this.deps.log.warn({ err: error }, 'could not read which nodes other replicas hold'),
      )
      .finally(() => (this.refreshing = null));
    return this.refreshing;
  }

  isOnline(nodeId: string): boolean {
    if (this.deps.local.isOnline(nodeId)) return true;
    this.asked();
    return this.elsewhere.has(nodeId);
  }

  async current(): Promise<void> {
    if (this.asked()) await this.refreshing;
  }

  onlineNodeIds(): readonly string[] {
    this.asked();
    const local = this.deps.local.onlineNodeIds();
    if (this.elsewhere.size === 0) return local;
    return [...new Set([...local, ...this.elsewhere])];
  }

  async view(nodeId: string, now: number, options: { exact?: boolean } = {}): Promise<PresenceView> {
    const view = await this.deps.local.view(nodeId, now);
    if (view.online) return view;
    if (options.exact && this.deps.enabled) {
      try {
        const held = await this.deps.repos.replicas.session(nodeId, this.deps.now(), this.deps.lapseMs);
        if (held && held.replicaId !== this.deps.replicaId)
          return { ...view, online: true, shellEnabled: held.shellEnabled };
        return view;
      } catch (error) {
        this.deps.log.warn({ err: error, nodeId }, 'could not read where the node is connected');
      }
    }
    if (this.asked()) await this.refreshing;
    return { ...view, online: this.elsewhere.has(nodeId) };
  }

  close(): void {
    clearInterval(this.timer);
  }
}
