/**
 * Backpressure for a relayed shell: the server must not hold more of a node's output than the ops
 * browser takes. After each output frame it reads the browser socket's `bufferedAmount`: above the
 * high-water mark the node is told to pause (`shell-pause`), and resumed once the browser has
 * drained below the low-water mark; a node that goes on sending past `dropAfterBytes` loses the
 * shell (it does not honour flow control), so server memory stays bounded either way.
 */
import type { WebSocket } from 'ws';
import type { ShellLimits } from '../core/config.js';

export interface ShellFlowActions {
  pause(): void;
  resume(): void;
  /** Too much waiting although the node was told to pause: end the shell. */
  overflow(waitingBytes: number): void;
}

const POLL_MS = 50;

export class ShellFlow {
  private paused = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly limits: Pick<ShellLimits, 'highWaterBytes' | 'lowWaterBytes' | 'dropAfterBytes'>,
    private readonly actions: ShellFlowActions,
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** Output was just queued for the browser. */
  check(): void {
    const waiting = this.socket.bufferedAmount;
    if (waiting > this.limits.dropAfterBytes) return this.actions.overflow(waiting);
    if (this.paused || waiting <= this.limits.highWaterBytes) return;
    this.paused = true;
    this.actions.pause();
    // ws emits no "drained" event: look again until the browser has caught up.
    this.timer = setInterval(() => {
      if (this.socket.bufferedAmount >= this.limits.lowWaterBytes) return;
      this.stop();
      this.actions.resume();
    }, POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.paused = false;
  }
}
