/**
 * Remote shells on this machine (node-pty): `shell-open` spawns the configured login shell and is
 * answered with `shell-opened` (or, when it cannot start, `shell-close`), `shell-data` (base64)
 * flows both ways, `shell-resize`, `shell-pause`/`shell-resume` stop and restart reading the shell's
 * output while the ops terminal catches up, `shell-close` from the server kills it, and the shell
 * exiting sends `shell-close` with its exit code. With remote shells disabled every open is
 * answered with a close. Idle and duration limits are enforced by the server.
 */
import pty from 'node-pty';
import type { AgentMessage } from '../../protocol/control.js';

/** Raw bytes per `shell-data` frame (base64 of 36 KiB stays under the protocol's 48 KiB). */
const CHUNK_BYTES = 36 * 1024;
export const MAX_SHELLS = 4;
export const SHELLS_DISABLED_REASON = 'Remote shells are disabled on this machine';

export interface RemoteShellOptions {
  enabled: boolean;
  command: readonly [string, ...string[]];
  env: Record<string, string>;
  cwd: string;
  send: (message: AgentMessage) => void;
  log: (event: string, message: string) => void;
}

export class RemoteShells {
  private readonly shells = new Map<string, pty.IPty>();

  constructor(private readonly options: RemoteShellOptions) {}

  get count(): number {
    return this.shells.size;
  }

  open(sessionId: string, cols: number, rows: number): void {
    const { send, log } = this.options;
    const refuse = (reason: string) => send({ type: 'shell-close', sessionId, reason });
    if (!this.options.enabled) return refuse(SHELLS_DISABLED_REASON);
    if (this.shells.has(sessionId)) return;
    if (this.shells.size >= MAX_SHELLS) return refuse(`At most ${MAX_SHELLS} remote shells at a time.`);
    const [program, ...args] = this.options.command;
    let term: pty.IPty;
    try {
      term = pty.spawn(program, args, {
        name: 'xterm-256color',
        cols,
        rows,
        cwd: this.options.cwd,
        env: { ...this.options.env, TERM: 'xterm-256color' },
      });
    } catch (error) {
      return refuse(`The shell could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.shells.set(sessionId, term);
    send({ type: 'shell-opened', sessionId });
    log('shell_opened', `Remote shell ${sessionId} opened (${program}).`);
    term.onData((text) => {
      const bytes = Buffer.from(text, 'utf8');
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        send({
          type: 'shell-data',
          sessionId,
          data: bytes.subarray(at, at + CHUNK_BYTES).toString('base64'),
        });
      }
    });
    term.onExit(({ exitCode, signal }) => {
      if (this.shells.get(sessionId) !== term) return;
      this.shells.delete(sessionId);
      const reason = signal ? `The shell ended (signal ${signal}).` : 'The shell exited.';
      send({ type: 'shell-close', sessionId, reason, exitCode });
      log('shell_closed', `Remote shell ${sessionId} ended (exit ${exitCode}).`);
    });
  }

  input(sessionId: string, base64: string): void {
    this.shells.get(sessionId)?.write(Buffer.from(base64, 'base64').toString('utf8'));
  }

  /** The ops terminal is behind: stop reading the shell's output (the shell blocks when its pty fills). */
  pause(sessionId: string): void {
    this.shells.get(sessionId)?.pause();
  }

  resume(sessionId: string): void {
    this.shells.get(sessionId)?.resume();
  }

  resize(sessionId: string, cols: number, rows: number): void {
    try {
      this.shells.get(sessionId)?.resize(cols, rows);
    } catch {
      // the shell is exiting
    }
  }

  /** The server closed the session: end the shell without echoing a close back. */
  close(sessionId: string, reason: string): void {
    const term = this.shells.get(sessionId);
    if (!term) return;
    this.shells.delete(sessionId);
    this.options.log('shell_closed', `Remote shell ${sessionId} closed by the server: ${reason}`);
    kill(term);
  }

  /** The channel went away: no shell outlives its session. */
  closeAll(): void {
    for (const [id, term] of this.shells) {
      this.shells.delete(id);
      kill(term);
    }
  }
}

function kill(term: pty.IPty): void {
  try {
    term.kill('SIGHUP');
  } catch {
    // already gone
  }
}
