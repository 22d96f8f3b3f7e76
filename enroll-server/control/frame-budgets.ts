/**
 * How many frames of each type a node may send (docs/control-channel.md "Limits"): a token bucket
 * per node and message type. The budgets belong to the node, not to one connection, so that
 * reconnecting does not refill them. Budgets leave ample room for a real agent (a heartbeat every
 * 15 s, a usage report every 5 minutes and the whole spool after a reconnect) and stop a node that
 * floods the server with frames that each cost a signature check or a database write.
 */
import type { AgentMessage } from '../../protocol/control.js';
import { type BucketRate, TokenBucket } from './token-bucket.js';

export type FrameType = AgentMessage['type'];

export const FRAME_BUDGETS: Readonly<Record<FrameType, BucketRate>> = {
  hello: { burst: 3, perSecond: 1 / 60 },
  heartbeat: { burst: 4, perSecond: 1 / 5 },
  hardware: { burst: 6, perSecond: 1 / 120 },
  // A day offline spools 288 reports; they all come right after the reconnect.
  usage: { burst: 1000, perSecond: 1 / 5 },
  result: { burst: 20, perSecond: 1 },
  'join-result': { burst: 4, perSecond: 1 / 30 },
  bye: { burst: 3, perSecond: 1 / 60 },
  'shell-opened': { burst: 20, perSecond: 2 },
  'shell-data': { burst: 2000, perSecond: 1000 },
  'shell-close': { burst: 20, perSecond: 2 },
  // An audit (daily, retried after a failure, or asked for by ops or the owner) reports each of
  // its checks as it starts, then once.
  'audit-progress': { burst: 40, perSecond: 1 / 10 },
  'audit-report': { burst: 5, perSecond: 1 / 60 },
  'audit-error': { burst: 5, perSecond: 1 / 60 },
  // An update: a handful of states per offer, the outcome resent after each reconnect.
  'update-status': { burst: 12, perSecond: 1 / 10 },
};

export function scaledBudget(rate: BucketRate, factor: number): BucketRate {
  return { burst: rate.burst * factor, perSecond: rate.perSecond * factor };
}

export class FrameBudgets {
  private readonly byNode = new Map<string, Map<FrameType, TokenBucket>>();

  constructor(
    private readonly factor: number,
    private readonly budgets: Readonly<Record<FrameType, BucketRate>> = FRAME_BUDGETS,
  ) {}

  /** Take one frame of `type` from the node's budget; false when it is spent. */
  take(nodeId: string, type: FrameType, now: number): boolean {
    let buckets = this.byNode.get(nodeId);
    if (!buckets) this.byNode.set(nodeId, (buckets = new Map<FrameType, TokenBucket>()));
    let bucket = buckets.get(type);
    if (!bucket) buckets.set(type, (bucket = new TokenBucket(this.rate(type), now)));
    return bucket.take(now);
  }

  rate(type: FrameType): BucketRate {
    return scaledBudget(this.budgets[type], this.factor);
  }

  /** Forget nodes whose every bucket is full again (they are as good as new). */
  sweep(now: number): void {
    for (const [nodeId, buckets] of this.byNode) {
      if ([...buckets.values()].every((b) => b.full(now))) this.byNode.delete(nodeId);
    }
  }

  get size(): number {
    return this.byNode.size;
  }
}
