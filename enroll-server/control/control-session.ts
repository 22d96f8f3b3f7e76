/**
 * One node's live control session on the server: its socket, what it was last told, and whether
 * it has ended. Once ended (bye, revoke, reject, a newer session, abuse, shutdown) it processes
 * nothing more, and its socket is closed with the code that says why; a peer that does not finish
 * the close handshake within the grace is cut off.
 */
import type { WebSocket } from 'ws';
import type { NodeStatus } from '../../protocol/api.js';
import type { ServerMessage } from '../../protocol/control.js';

export class ControlSession {
  lastHeardAt: number;
  ended = false;
  bye = false;
  badFrames = 0;
  shellEnabled = false;
  /** `join` messages sent that the node has not answered yet; a `join-result` without one is ignored. */
  joinsOutstanding = 0;
  /** The last join answered failed: the agent's own retry of it may still succeed. */
  joinFailed = false;
  /**
   * When the node was last heard from, on this process's monotonic clock: a silent socket is cut
   * off after real time, whatever the server's clock says (tests move that clock by days).
   */
  heardMono = performance.now();
  /** Which of the hub's ping ticks pings this session (sessions are spread evenly over them). */
  pingSlot = 0;
  /** The frames of one session are handled one after the other, in the order the node sent them. */
  private work: Promise<void> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly nodeId: string,
    readonly socket: WebSocket,
    /** The status the node was last told (welcome or a status push). */
    public status: NodeStatus,
    now: number,
    private readonly closeGraceMs: number,
  ) {
    this.lastHeardAt = now;
  }

  /**
   * Queue `task` behind the frames already being handled: a report is checked against the ones
   * sent before it, never raced by them. The queue is bounded by the per-type budgets, which are
   * taken before a frame is queued.
   */
  serially(task: () => Promise<void>): Promise<void> {
    const next = this.work.then(task);
    this.work = next.catch(() => undefined);
    return next;
  }

  /** The node was heard from (a frame or a pong) at `now`. */
  heard(now: number): void {
    this.lastHeardAt = now;
    this.heardMono = performance.now();
  }

  send(message: ServerMessage): void {
    if (!this.ended && this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Close the socket with `code`; destroy it if the peer has not finished closing within the grace. */
  close(code: number, reason: string): void {
    const { socket } = this;
    if (socket.readyState === socket.CLOSED) return;
    if (socket.readyState === socket.OPEN) socket.close(code, reason);
    const timer = setTimeout(() => socket.terminate(), this.closeGraceMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}
