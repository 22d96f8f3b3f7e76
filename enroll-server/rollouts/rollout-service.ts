/**
 * Rollouts of agent releases (docs/updates.md). A rollout offers one release to the fleet in
 * stages (a growing percentage of nodes, picked by the hash of their id), each soaking for its
 * time before the next starts. Offers are paced: at most `maxInFlight` nodes of a rollout download
 * and install at once, so the downloads stay bounded. Nodes offline during a stage get the update
 * when they are back (each tick looks at who is connected). A rollout pauses itself once
 * `maxFailures` nodes rolled back or failed; a version that rolled back on a node is never offered
 * to it again. Every tick works from the database, so a replica restarting loses nothing.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { NodeStatus } from '../../protocol/api.js';
import {
  AGENT_ARTIFACT,
  DEFAULT_UPDATE_HEALTH_SECONDS,
  type UpdateMessage,
  type UpdateStatusMessage,
} from '../../protocol/update.js';
import type { ActivityLog, Actor } from '../core/activity-log.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import type { Transactional } from '../core/transactions.js';
import type { ArtifactRepository } from '../artifacts/artifact-repository.js';
import { artifactPath } from '../../protocol/artifacts.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type {
  RolloutNodeRecord,
  RolloutRecord,
  RolloutRepository,
  RolloutStage,
} from './rollout-repository.js';
import { FAILED_STATES, FINAL_STATES, inStage, stagesProblem } from './rollout-rules.js';

/** The live sessions of this replica (the control hub). */
export interface RolloutChannel {
  connectedNodes(): { nodeId: string; status: NodeStatus }[];
  sendUpdate(nodeId: string, message: UpdateMessage): boolean;
}

export interface RolloutServiceDeps {
  repos: Transactional<{
    rollouts: RolloutRepository;
    artifacts: ArtifactRepository;
    nodes: NodeRepository;
    activity: ActivityLog;
  }>;
  channel: RolloutChannel;
  now: () => number;
  log: FastifyBaseLogger;
  /** Nodes of one rollout downloading or installing at once (per replica). */
  maxInFlight?: number;
  healthSeconds?: number;
  /**
   * The least time between two ticks that node events (hello, update-status) ask for: a tick
   * reads the whole rollout, so thousands of events a second must not each start one.
   */
  eventTickGapMs?: number;
}

export interface RolloutInput {
  artifact: string;
  version: string;
  stages: RolloutStage[];
  maxFailures: number;
}

export interface RolloutDetail {
  rollout: RolloutRecord;
  nodes: RolloutNodeRecord[];
}

const SYSTEM: Actor = { type: 'system', id: null };

export function createRolloutService(deps: RolloutServiceDeps) {
  const { repos, now } = deps;
  const maxInFlight = deps.maxInFlight ?? 50;
  const healthSeconds = deps.healthSeconds ?? DEFAULT_UPDATE_HEALTH_SECONDS;
  /** The agent version each connected node said in its hello. */
  const versions = new Map<string, string>();
  let timer: NodeJS.Timeout | undefined;
  let ticking: Promise<void> | undefined;
  let again = false;
  const eventTickGapMs = deps.eventTickGapMs ?? 250;
  let soonTimer: NodeJS.Timeout | undefined;
  let lastTickAt = -Infinity;

  /** A node event may free a slot or end a stage: tick soon, at most once per `eventTickGapMs`. */
  function tickSoon(): void {
    if (soonTimer) return;
    const wait = Math.max(0, lastTickAt + eventTickGapMs - performance.now());
    soonTimer = setTimeout(() => {
      soonTimer = undefined;
      void tick();
    }, wait);
    soonTimer.unref();
  }

  const inFlight = (row: RolloutNodeRecord) => !FINAL_STATES.includes(row.state);
  /** An offer not heard of since long after its deadline does not hold a download slot. */
  const holdsSlot = (row: RolloutNodeRecord, t: number) =>
    inFlight(row) && t - row.updatedAt < (healthSeconds + 120) * 1000;

  async function offer(r: RolloutRecord, nodeId: string): Promise<boolean> {
    const artifact = await repos.artifacts.get(r.artifact, r.version);
    if (!artifact) return false;
    const sent = deps.channel.sendUpdate(nodeId, {
      type: 'update',
      rolloutId: r.id,
      healthSeconds,
      artifact: {
        name: artifact.name,
        version: artifact.version,
        sha256: artifact.sha256,
        size: artifact.size,
        url: artifactPath(artifact.name, artifact.version),
        signature: artifact.signature,
      },
    });
    return sent;
  }

  async function pauseFor(r: RolloutRecord, reason: string, actor: Actor): Promise<void> {
    const t = now();
    await repos.rollouts.update(r.id, { ...r, state: 'paused', reason, updatedAt: t });
    await repos.activity.record(t, actor, 'rollout.paused', { type: 'rollout', id: r.id }, { reason });
    deps.log.warn({ event: 'rollout_paused', rolloutId: r.id }, reason);
  }

  async function tickOne(r: RolloutRecord): Promise<void> {
    const t = now();
    const rows = new Map((await repos.rollouts.nodes(r.id)).map((row) => [row.nodeId, row]));
    const failures = [...rows.values()].filter((row) => FAILED_STATES.includes(row.state)).length;
    if (failures >= r.maxFailures) {
      await pauseFor(
        r,
        `${failures} node(s) rolled back or failed (maxFailures ${r.maxFailures}); see the nodes' errors, then resume or abort.`,
        SYSTEM,
      );
      return;
    }
    const stage = r.stages[r.stage];
    if (!stage) return;
    let busy = [...rows.values()].filter((row) => holdsSlot(row, t)).length;
    // Read once per tick, when a node without a row is met (a per-node read here made a tick of
    // 10,000 connected nodes take seconds of awaits).
    let rolledBack: Set<string> | undefined;
    let waiting = false;
    for (const { nodeId, status } of deps.channel.connectedNodes()) {
      if (status !== 'active' || !inStage(nodeId, stage)) continue;
      const row = rows.get(nodeId);
      if (row && !inFlight(row)) continue;
      if (versions.get(nodeId) === r.version) {
        await repos.rollouts.setNode({
          rolloutId: r.id,
          nodeId,
          version: r.version,
          state: 'healthy',
          error: null,
          updatedAt: t,
        });
        continue;
      }
      if (!row && (rolledBack ??= await repos.rollouts.rolledBackNodes(r.version)).has(nodeId)) continue;
      waiting = true;
      // Offered, but not heard of for longer than an update can take (the agent restarted
      // mid-download, say): offered again; the agent ignores an offer while one is under way.
      if (row && holdsSlot(row, t)) continue;
      // No slot free: this node waits, but the loop goes on, so that nodes back on the new
      // version later in the list are still seen healthy and free their slots.
      if (busy >= maxInFlight) continue;
      if (!(await offer(r, nodeId))) continue;
      await repos.rollouts.setNode({
        rolloutId: r.id,
        nodeId,
        version: r.version,
        state: 'offered',
        error: null,
        updatedAt: t,
      });
      busy += 1;
      waiting = true;
    }
    const last = r.stage >= r.stages.length - 1;
    if (!waiting && !last && t - r.stageStartedAt >= stage.soakMinutes * 60_000) {
      const next = r.stage + 1;
      await repos.rollouts.update(r.id, { ...r, stage: next, stageStartedAt: t, updatedAt: t });
      await repos.activity.record(
        t,
        SYSTEM,
        'rollout.stage',
        { type: 'rollout', id: r.id },
        {
          stage: next + 1,
          percent: r.stages[next]?.percent,
        },
      );
    }
  }

  async function tick(): Promise<void> {
    if (ticking) {
      again = true;
      return ticking;
    }
    ticking = (async () => {
      do {
        again = false;
        lastTickAt = performance.now();
        for (const r of await repos.rollouts.active()) {
          await tickOne(r).catch((error: unknown) =>
            deps.log.error(
              { err: error, rolloutId: r.id },
              'a rollout tick failed; it is tried again on the next one',
            ),
          );
        }
      } while (again);
    })().finally(() => (ticking = undefined));
    return ticking;
  }

  async function require(id: string): Promise<RolloutRecord> {
    const r = await repos.rollouts.get(id);
    if (!r) throw new NotFoundError(`There is no rollout ${id}.`);
    return r;
  }

  return {
    async create(input: RolloutInput, actor: Actor): Promise<RolloutRecord> {
      const problem = stagesProblem(input.stages);
      if (problem) throw new ValidationError(`The rollout was not created: ${problem}.`);
      if (input.artifact !== AGENT_ARTIFACT)
        throw new ValidationError(
          `Rollouts carry agent releases: the artifact must be ${AGENT_ARTIFACT}, not ${input.artifact}.`,
        );
      const artifact = await repos.artifacts.get(input.artifact, input.version);
      if (!artifact)
        throw new NotFoundError(
          `There is no artifact ${input.artifact} ${input.version}: upload it first (npm run admin -- artifacts upload).`,
        );
      const t = now();
      const record: RolloutRecord = {
        id: `ro_${randomBytes(8).toString('hex')}`,
        artifact: input.artifact,
        version: input.version,
        stages: input.stages,
        maxFailures: input.maxFailures,
        state: 'active',
        stage: 0,
        stageStartedAt: t,
        reason: null,
        createdBy: actor.id,
        createdAt: t,
        updatedAt: t,
      };
      await repos.transaction(async (tx) => {
        await tx.rollouts.insert(record);
        await tx.activity.record(
          t,
          actor,
          'rollout.created',
          { type: 'rollout', id: record.id },
          {
            version: record.version,
            stages: record.stages,
            maxFailures: record.maxFailures,
          },
        );
      });
      void tick();
      return record;
    },
    list: (limit: number) => repos.rollouts.list(limit),
    async get(id: string): Promise<RolloutDetail> {
      const rollout = await require(id);
      return { rollout, nodes: await repos.rollouts.nodes(id) };
    },
    async pause(id: string, actor: Actor): Promise<RolloutRecord> {
      const r = await require(id);
      if (r.state !== 'active')
        throw new ConflictError(`Rollout ${id} is ${r.state}; only an active one can be paused.`);
      await pauseFor(r, 'paused by ops', actor);
      return require(id);
    },
    async resume(id: string, actor: Actor): Promise<RolloutRecord> {
      const r = await require(id);
      if (r.state !== 'paused')
        throw new ConflictError(`Rollout ${id} is ${r.state}; only a paused one can be resumed.`);
      const t = now();
      // Resuming accepts the failures so far: the count starts again from them.
      const failed = (await repos.rollouts.nodes(id)).filter((row) =>
        FAILED_STATES.includes(row.state),
      ).length;
      await repos.rollouts.update(id, {
        ...r,
        state: 'active',
        reason: null,
        updatedAt: t,
      });
      await repos.activity.record(
        t,
        actor,
        'rollout.resumed',
        { type: 'rollout', id },
        { failedSoFar: failed },
      );
      if (failed >= r.maxFailures) {
        await repos.rollouts.update(id, {
          ...r,
          state: 'paused',
          reason: `still ${failed} failed node(s), at least maxFailures (${r.maxFailures}); create a new rollout with a fixed release`,
          updatedAt: t,
        });
        return require(id);
      }
      void tick();
      return require(id);
    },
    async abort(id: string, actor: Actor): Promise<RolloutRecord> {
      const r = await require(id);
      if (r.state === 'aborted') throw new ConflictError(`Rollout ${id} is already aborted.`);
      const t = now();
      await repos.rollouts.update(id, { ...r, state: 'aborted', reason: 'aborted by ops', updatedAt: t });
      await repos.activity.record(t, actor, 'rollout.aborted', { type: 'rollout', id });
      return require(id);
    },
    tick,
    listener: {
      hello(nodeId: string, agentVersion: string): void {
        versions.set(nodeId, agentVersion);
        void repos.nodes
          .setAgentVersion(nodeId, agentVersion, now())
          .catch((error: unknown) =>
            deps.log.warn({ err: error, nodeId }, 'the agent version from a hello was not stored'),
          )
          .then(tickSoon);
      },
      disconnected(nodeId: string): void {
        versions.delete(nodeId);
      },
      async status(nodeId: string, message: UpdateStatusMessage): Promise<void> {
        const r = await repos.rollouts.get(message.rolloutId);
        if (!r || r.version !== message.version) return;
        const row = await repos.rollouts.node(r.id, nodeId);
        if (!row) return;
        if (FINAL_STATES.includes(row.state) && !FINAL_STATES.includes(message.state)) return;
        if (row.state === message.state && row.error === (message.error ?? null)) return;
        const t = now();
        await repos.rollouts.setNode({
          rolloutId: r.id,
          nodeId,
          version: r.version,
          state: message.state,
          error: message.error ?? null,
          updatedAt: t,
        });
        if (FAILED_STATES.includes(message.state)) {
          await repos.activity.record(
            t,
            { type: 'node', id: nodeId },
            message.state === 'rolled-back' ? 'rollout.node-rolled-back' : 'rollout.node-failed',
            { type: 'rollout', id: r.id },
            { nodeId, version: r.version, error: message.error ?? null },
          );
          // A failure may reach maxFailures: the rollout pauses now, not at the next tick.
          await tick();
          return;
        }
        tickSoon();
      },
    },
    start(ms: number): void {
      timer = setInterval(() => void tick(), ms);
      timer.unref();
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      clearTimeout(soonTimer);
      await ticking;
    },
  };
}

export type RolloutService = ReturnType<typeof createRolloutService>;
