/**
 * Connection limits of the control channel, enforced before the WebSocket upgrade
 * (docs/control-channel.md "Limits"): connections in total, live sessions per client address,
 * upgrades per address whose token is still being checked, refused upgrades per address in a
 * window, and how often one node may connect. Every admitted upgrade holds a ticket until its
 * socket closes, so nothing is counted twice or forgotten.
 */
import type { ControlLimits } from '../core/config.js';
import { RateLimitedError, UnavailableError } from '../core/errors.js';
import { FailureLimiter } from '../core/failure-limiter.js';
import { TokenBucket } from './token-bucket.js';

/** One admitted upgrade: pending while its token is checked, live once upgraded, done when closed. */
export interface ConnectionTicket {
  /** The token was refused (or the node may not connect): counts against the address. */
  failed(): void;
  /** The node's session started. */
  live(): void;
  /** The socket closed (idempotent). */
  release(): void;
}

interface AddressCount {
  pending: number;
  live: number;
}

const MAX_TRACKED_NODES = 100_000;

export class ConnectionGate {
  private total = 0;
  private readonly addresses = new Map<string, AddressCount>();
  private readonly failures: FailureLimiter;
  private readonly nodeConnects = new Map<string, TokenBucket>();

  constructor(
    private readonly limits: ControlLimits,
    private readonly now: () => number,
  ) {
    this.failures = new FailureLimiter({
      windowMs: limits.failureWindowSeconds * 1000,
      limit: limits.maxFailuresPerAddress,
      now,
    });
  }

  /** Connections held now (live and pending), in total. */
  get connections(): number {
    return this.total;
  }

  /** Admit an upgrade from `address`, or throw the 429/503 to answer with. */
  admit(address: string): ConnectionTicket {
    const { limits } = this;
    if (this.total >= limits.maxConnections) {
      throw new UnavailableError(
        `The server holds as many control connections as it may (${limits.maxConnections}). The agent retries by itself; nothing needs doing on the machine.`,
        15,
      );
    }
    const count = this.addresses.get(address) ?? { pending: 0, live: 0 };
    const waitFailures = this.failures.retryAfterSeconds(address);
    if (waitFailures > 0) {
      throw new RateLimitedError(
        `Too many refused control connections from this address (${limits.maxFailuresPerAddress} in ${limits.failureWindowSeconds} s). Wait ${waitFailures} seconds; check the machine's identity and clock if this repeats.`,
        waitFailures,
      );
    }
    if (count.pending >= limits.maxPendingPerAddress) {
      throw new RateLimitedError(
        `Too many control connections from this address are being checked at once (${limits.maxPendingPerAddress}). Wait a moment, then try again.`,
        1,
      );
    }
    if (count.live >= limits.maxPerAddress) {
      throw new RateLimitedError(
        `Too many machines are connected from this address (${limits.maxPerAddress}). Ask the operations team to raise the limit if they all belong here.`,
        60,
      );
    }
    count.pending += 1;
    this.total += 1;
    this.addresses.set(address, count);
    let state: 'pending' | 'live' | 'done' = 'pending';
    const leave = () => {
      if (state === 'pending') count.pending -= 1;
      if (state === 'live') count.live -= 1;
      state = 'done';
      this.total -= 1;
      if (count.pending === 0 && count.live === 0) this.addresses.delete(address);
    };
    return {
      failed: () => {
        if (state !== 'pending') return;
        this.failures.recordFailure(address);
      },
      live: () => {
        if (state !== 'pending') return;
        count.pending -= 1;
        count.live += 1;
        state = 'live';
      },
      release: () => {
        if (state !== 'done') leave();
      },
    };
  }

  /** Take one connection from the node's allowance, or throw the 429 to answer with. */
  nodeConnect(nodeId: string): void {
    const now = this.now();
    let bucket = this.nodeConnects.get(nodeId);
    if (!bucket) {
      if (this.nodeConnects.size >= MAX_TRACKED_NODES) this.sweep(now);
      bucket = new TokenBucket(
        { burst: this.limits.nodeConnectBurst, perSecond: 1 / this.limits.nodeConnectIntervalSeconds },
        now,
      );
      this.nodeConnects.set(nodeId, bucket);
    }
    if (!bucket.take(now)) {
      const wait = bucket.retryAfterSeconds(now);
      throw new RateLimitedError(
        `This machine connects too often (${this.limits.nodeConnectBurst} at once, then one every ${this.limits.nodeConnectIntervalSeconds} s). Wait ${wait} seconds; if another copy of this machine is running, stop it.`,
        wait,
      );
    }
  }

  /** Forget nodes whose allowance is full again. */
  sweep(now = this.now()): void {
    for (const [nodeId, bucket] of this.nodeConnects) if (bucket.full(now)) this.nodeConnects.delete(nodeId);
  }
}
