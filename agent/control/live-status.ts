/**
 * The node's live status as the daemon hears it (`welcome`, `status`, a refusal), written to
 * `live-status.json` atomically, in the order heard, so that `agent status` shows what the server
 * says now rather than what it said at enrollment.
 */
import type { NodeStatus } from '../../protocol/api.js';
import type { LiveStatus, StateStore } from '../state/state-store.js';

export interface LiveStatusRecorder {
  record(status: NodeStatus, reason: string | null | undefined): void;
  /** Resolves once every write so far is on disk (or has failed and been reported). */
  flush(): Promise<void>;
}

export function createLiveStatusRecorder(
  store: StateStore,
  nodeId: string,
  now: () => number,
  onError: (message: string) => void,
): LiveStatusRecorder {
  let chain: Promise<void> = Promise.resolve();
  return {
    record(status, reason) {
      const entry: LiveStatus = {
        nodeId,
        status,
        reason: reason ?? null,
        learnedAt: new Date(now()).toISOString(),
      };
      chain = chain.then(() =>
        store.live.save(entry).catch((error: unknown) => {
          const why = error instanceof Error ? error.message : String(error);
          onError(`Could not record the status in ${store.live.path}: ${why}`);
        }),
      );
    },
    flush: () => chain,
  };
}
