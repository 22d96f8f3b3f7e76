/**
 * Watches the fleet for what people must hear about, on a timer:
 * - a machine offline longer than its owner's threshold (`node.offline`, once per spell) and
 *   back again (`node.online`); who was told is stored, so a restart tells nobody twice, and the
 *   time the server itself was down never counts (a spell starts no earlier than this start);
 * - many machines dropping within a few minutes (`ops.nodes-dropped`, at most every 30 minutes);
 * - machines waiting in the pending queue too long (`ops.pending-waiting`, once a day per machine).
 * Presence comes from the control channel (`PresenceSource`); the clock is passed in.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { AccountsConfig } from '../core/accounts-config.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { Transactional } from '../core/transactions.js';
import type { PresenceSource } from '../nodes/presence-view.js';
import type { FleetWatchRepository } from './fleet-watch-repository.js';
import type { PreferenceRepository } from './preference-repository.js';
import { OFFLINE_MINUTES, withDefaults } from './preferences.js';

const MINUTE = 60_000;
const DROP_ALERT_EVERY_MS = 30 * MINUTE;
const PENDING_REALERT_MS = 24 * 60 * MINUTE;

export interface FleetWatchDeps {
  repos: Transactional<{
    fleetWatch: FleetWatchRepository;
    preferences: PreferenceRepository;
    events: EventOutbox;
  }>;
  presence: PresenceSource;
  config: AccountsConfig['fleetWatch'];
  now: () => number;
  /** When this server started: offline spells are counted from here at the earliest. */
  startedAt: number;
  log: FastifyBaseLogger;
}

export function createFleetWatch(deps: FleetWatchDeps) {
  const { repos, presence, config, now } = deps;
  /** Offline machines: since when (their last sign of life, or this start); null: never connected. */
  const offlineSince = new Map<string, number | null>();
  let notices: Map<string, number> | undefined;
  let previouslyOnline: Set<string> | null = null;
  let drops: { at: number; nodeId: string }[] = [];
  let lastDropAlert = -Infinity;

  /** The last tick that saw each machine online (presence rows reach the database in batches). */
  const lastOnline = new Map<string, number>();

  async function learnSince(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const seen = await repos.fleetWatch.lastSeen(ids);
    for (const id of ids) {
      const last = Math.max(seen.get(id) ?? -Infinity, lastOnline.get(id) ?? -Infinity);
      offlineSince.set(id, last === -Infinity ? null : Math.max(last, deps.startedAt));
    }
  }

  async function offlineAndBack(at: number, online: Set<string>, watched: { id: string; ownerId: string }[]) {
    notices ??= new Map((await repos.fleetWatch.openNotices()).map((n) => [n.nodeId, n.offlineSince]));
    const open = notices;
    const ids = new Set(watched.map((n) => n.id));
    // A machine revoked or rejected meanwhile is no longer watched: its notice just closes.
    for (const id of [...lastOnline.keys()].filter((i) => !ids.has(i))) lastOnline.delete(id);
    for (const id of [...open.keys()].filter((i) => !ids.has(i))) {
      await repos.fleetWatch.closeNotice(id);
      open.delete(id);
    }
    const unknown: string[] = [];
    for (const node of watched) {
      if (online.has(node.id)) {
        offlineSince.delete(node.id);
        lastOnline.set(node.id, at);
        const since = open.get(node.id);
        if (since === undefined) continue;
        await repos.transaction(async (tx) => {
          if (await tx.fleetWatch.closeNotice(node.id))
            await tx.events.append(at, {
              type: 'node.online',
              nodeId: node.id,
              ownerId: node.ownerId,
              offlineSince: since,
              backAt: at,
            });
        });
        open.delete(node.id);
      } else if (!offlineSince.has(node.id)) {
        unknown.push(node.id);
      }
    }
    await learnSince(unknown);
    const due = watched.filter((n) => {
      const since = offlineSince.get(n.id);
      return (
        !online.has(n.id) &&
        !open.has(n.id) &&
        typeof since === 'number' &&
        at - since >= OFFLINE_MINUTES.min * MINUTE
      );
    });
    if (due.length === 0) return;
    const preferences = await repos.preferences.getMany([...new Set(due.map((n) => n.ownerId))]);
    for (const node of due) {
      const since = offlineSince.get(node.id);
      if (typeof since !== 'number') continue;
      const threshold = withDefaults(preferences.get(node.ownerId)).offlineMinutes * MINUTE;
      if (at - since < threshold) continue;
      await repos.transaction(async (tx) => {
        if (await tx.fleetWatch.openNotice(node.id, since, at))
          await tx.events.append(at, { type: 'node.offline', nodeId: node.id, ownerId: node.ownerId, since });
      });
      open.set(node.id, since);
    }
  }

  async function massDrop(at: number, online: Set<string>, watched: { id: string }[]) {
    if (previouslyOnline === null) return;
    const before = previouslyOnline;
    for (const node of watched)
      if (before.has(node.id) && !online.has(node.id)) drops.push({ at, nodeId: node.id });
    drops = drops.filter((d) => at - d.at < config.dropWindowMinutes * MINUTE && !online.has(d.nodeId));
    if (drops.length < config.dropCount || at - lastDropAlert < DROP_ALERT_EVERY_MS) return;
    await repos.events.append(at, {
      type: 'ops.nodes-dropped',
      count: drops.length,
      windowMinutes: config.dropWindowMinutes,
      nodeIds: drops.map((d) => d.nodeId),
    });
    deps.log.warn({ event: 'nodes_dropped', count: drops.length }, 'many machines went offline at once');
    lastDropAlert = at;
    drops = [];
  }

  async function pendingQueue(at: number) {
    const waiting = await repos.fleetWatch.pendingWaiting(
      at - config.pendingMinutes * MINUTE,
      at - PENDING_REALERT_MS,
      50,
    );
    if (waiting.length === 0) return;
    await repos.transaction(async (tx) => {
      await tx.events.append(at, {
        type: 'ops.pending-waiting',
        nodes: waiting.map((n) => ({ nodeId: n.id, ownerId: n.ownerId, since: n.since })),
      });
      await tx.fleetWatch.recordPendingAlerts(
        waiting.map((n) => n.id),
        at,
      );
    });
  }

  return {
    async tick(): Promise<void> {
      const at = now();
      const online = new Set(presence.onlineNodeIds());
      const watched = await repos.fleetWatch.watched();
      await offlineAndBack(at, online, watched);
      await massDrop(at, online, watched);
      await pendingQueue(at);
      previouslyOnline = online;
    },
  };
}
export type FleetWatch = ReturnType<typeof createFleetWatch>;
