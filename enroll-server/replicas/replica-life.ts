/**
 * This server process as a replica: registered at start (with the URL the others reach it at),
 * a heartbeat every few seconds, and a look for dead replicas at each beat: one whose heartbeat
 * lapsed has its open presence closed at its last sign of life and its nodes' claims dropped, so
 * its nodes are counted right while they reconnect to the others.
 *
 * On a database that only this process uses (SQLite), every other replica in the registry is an
 * earlier run of this server and is reaped at once, at start.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { ReapResult, ReplicaRepository } from './replica-repository.js';

export interface ReplicaTiming {
  /** How often this replica writes its heartbeat (and looks for dead ones). */
  heartbeatMs: number;
  /** A replica whose heartbeat is this old is dead. */
  lapseMs: number;
}

export const newReplicaId = (): string => `rep_${randomBytes(9).toString('base64url')}`;

export interface ReplicaLifeDeps {
  repos: { replicas: ReplicaRepository };
  id: string;
  url: string | null;
  /** Other server processes may share the database. */
  shared: boolean;
  timing: ReplicaTiming;
  now: () => number;
  log: FastifyBaseLogger;
  /**
   * The heartbeat found this replica declared dead (it was paused past the lapse): its claims and
   * presence are gone, so it must end its sessions; the nodes reconnect and are claimed anew.
   */
  onDeclaredDead: () => void;
}

export interface ReplicaLife {
  id: string;
  /** What the start-up reap closed (intervals left open by a crash). */
  recovered: ReapResult;
  /** Stop beating and leave the registry (the caller has closed its sessions and written presence). */
  stop(reason: string): Promise<void>;
  /** One heartbeat and reap now (tests, and after a pause). */
  beat(): Promise<void>;
}

export async function startReplica(deps: ReplicaLifeDeps): Promise<ReplicaLife> {
  const { replicas } = deps.repos;
  const { id, now, log, timing } = deps;
  await replicas.register({ id, url: deps.url, now: now() });
  const reap = async (lapseMs: number, reason: string) => {
    const result = await replicas.reap(id, now(), lapseMs, reason);
    if (result.replicas.length > 0 || result.intervals > 0)
      log.warn(
        {
          event: 'replicas_reaped',
          replicas: result.replicas,
          intervals: result.intervals,
          sessions: result.sessions,
        },
        'closed the sessions of server replicas that stopped answering',
      );
    return result;
  };
  // One process on its own database: what an earlier run left open ends now, at its last sign of life.
  const recovered = await reap(
    deps.shared ? timing.lapseMs : 0,
    deps.shared ? 'replica-lapsed' : 'server-restart',
  );
  let stopped = false;
  let beating: Promise<void> | null = null;
  const beat = async () => {
    if (stopped) return;
    if (!(await replicas.heartbeat(id, now()))) {
      log.error(
        { event: 'replica_declared_dead', replica: id },
        'this replica was declared dead by the others (its heartbeat lapsed); ending its sessions and registering again',
      );
      deps.onDeclaredDead();
      await replicas.register({ id, url: deps.url, now: now() });
    }
    if (deps.shared) await reap(timing.lapseMs, 'replica-lapsed');
  };
  const timer = setInterval(() => {
    if (beating) return;
    beating = beat()
      .catch((error: unknown) =>
        log.error({ err: error, event: 'replica_heartbeat_failed' }, 'replica heartbeat failed'),
      )
      .finally(() => (beating = null));
  }, timing.heartbeatMs);
  timer.unref();
  return {
    id,
    recovered,
    beat,
    async stop(reason) {
      stopped = true;
      clearInterval(timer);
      await beating;
      await replicas.stop(id, now(), reason);
    },
  };
}
