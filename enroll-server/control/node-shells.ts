/**
 * Remote shells open on nodes, by node and shell session id: ops' input and flow control go to the
 * node over its control channel; the node's confirmation, output and end come back to the listener
 * (the shell relay).
 */
import type { ServerMessage } from '../../protocol/control.js';

export interface ShellListener {
  /** The node started the shell (`shell-opened`). */
  opened(): void;
  data(base64: string): void;
  closed(reason: string, exitCode?: number): void;
}

export class NodeShells {
  private readonly byNode = new Map<string, Map<string, ShellListener>>();

  /** `send` delivers a message to the node's live session. */
  constructor(private readonly send: (nodeId: string, message: ServerMessage) => void) {}

  open(nodeId: string, sessionId: string, cols: number, rows: number, listener: ShellListener): void {
    let shells = this.byNode.get(nodeId);
    if (!shells) this.byNode.set(nodeId, (shells = new Map<string, ShellListener>()));
    shells.set(sessionId, listener);
    this.send(nodeId, { type: 'shell-open', sessionId, cols, rows });
  }

  input(nodeId: string, sessionId: string, data: string): void {
    if (this.byNode.get(nodeId)?.has(sessionId)) this.send(nodeId, { type: 'shell-data', sessionId, data });
  }

  resize(nodeId: string, sessionId: string, cols: number, rows: number): void {
    if (this.byNode.get(nodeId)?.has(sessionId))
      this.send(nodeId, { type: 'shell-resize', sessionId, cols, rows });
  }

  /** Flow control: the ops terminal is behind (pause) or has caught up (resume). */
  pause(nodeId: string, sessionId: string): void {
    if (this.byNode.get(nodeId)?.has(sessionId)) this.send(nodeId, { type: 'shell-pause', sessionId });
  }

  resume(nodeId: string, sessionId: string): void {
    if (this.byNode.get(nodeId)?.has(sessionId)) this.send(nodeId, { type: 'shell-resume', sessionId });
  }

  /** Ops closed the shell: tell the node. */
  close(nodeId: string, sessionId: string, reason: string): void {
    if (this.byNode.get(nodeId)?.delete(sessionId))
      this.send(nodeId, { type: 'shell-close', sessionId, reason });
  }

  /** The node confirmed the shell. */
  opened(nodeId: string, sessionId: string): void {
    this.byNode.get(nodeId)?.get(sessionId)?.opened();
  }

  /** Output from the node. */
  output(nodeId: string, sessionId: string, data: string): void {
    this.byNode.get(nodeId)?.get(sessionId)?.data(data);
  }

  /** The node closed the shell. */
  closedByNode(nodeId: string, sessionId: string, reason: string, exitCode?: number): void {
    const shell = this.byNode.get(nodeId)?.get(sessionId);
    this.byNode.get(nodeId)?.delete(sessionId);
    shell?.closed(reason, exitCode);
  }

  /** The node's session ended: every shell on it ends. */
  endAll(nodeId: string, reason: string): void {
    const shells = this.byNode.get(nodeId);
    this.byNode.delete(nodeId);
    for (const shell of shells?.values() ?? []) shell.closed(reason);
  }
}
