/**
 * Runs the server's `join` messages one at a time and keeps trying a failed one: after a failure
 * (a refused artifact, a download cut too often, a k3s that did not start) the same join is
 * applied again after a capped, doubling, jittered wait, and each result goes to the server, so
 * ops see the current reason. A new join from the server replaces the one being retried.
 */
import type { AgentMessage, JoinMessage } from '../../protocol/control.js';
import type { JoinOutcome } from '../join/apply-join.js';

export interface JoinRunnerDeps {
  apply: (join: JoinMessage) => Promise<JoinOutcome>;
  /** Sends on the live session, if there is one (a retry with no session waits for the next join). */
  send: (message: AgentMessage) => boolean;
  note: (level: 'info' | 'warn' | 'error', event: string, message: string) => void;
  minMs: number;
  maxMs: number;
  random: () => number;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

/** Equal jitter: half the capped doubling wait, plus up to the other half at random. */
export function joinRetryDelay(failures: number, random: () => number, min: number, max: number): number {
  const ceiling = Math.min(max, min * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export function createJoinRunner(deps: JoinRunnerDeps) {
  let chain: Promise<unknown> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;
  let generation = 0;

  const result = (outcome: JoinOutcome): AgentMessage =>
    outcome.ok
      ? { type: 'join-result', ok: true, wireguardPublicKey: outcome.wireguardPublicKey }
      : {
          type: 'join-result',
          ok: false,
          error: outcome.error,
          ...(outcome.failure ? { failure: outcome.failure } : {}),
        };

  const schedule = (join: JoinMessage, mine: number) => {
    failures += 1;
    const delay = joinRetryDelay(failures, deps.random, deps.minMs, deps.maxMs);
    deps.note('warn', 'join_retry', `Trying the join again in ${seconds(delay)} (attempt ${failures + 1}).`);
    timer = setTimeout(() => {
      timer = undefined;
      if (mine !== generation) return;
      chain = chain.then(async () => {
        if (mine !== generation) return;
        const outcome = await deps.apply(join);
        deps.send(result(outcome));
        after(outcome, join, mine);
      });
    }, delay);
    timer.unref();
  };

  const after = (outcome: JoinOutcome, join: JoinMessage, mine: number) => {
    if (outcome.ok) failures = 0;
    else if (mine === generation) schedule(join, mine);
  };

  return {
    /** Applies a join from the server; resolves with the `join-result` to send. */
    run(join: JoinMessage): Promise<AgentMessage> {
      generation += 1;
      const mine = generation;
      clearTimeout(timer);
      timer = undefined;
      const run = chain.then(async () => {
        const outcome = await deps.apply(join);
        after(outcome, join, mine);
        return result(outcome);
      });
      chain = run.catch(() => undefined);
      return run;
    },
    stop(): void {
      generation += 1;
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
