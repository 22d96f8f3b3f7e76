/** Commands in flight to nodes: each waits for the node's `result` frame or its timeout. */

export interface CommandOutcome {
  ok: boolean;
  output?: string;
  error?: string;
}

interface Pending {
  nodeId: string;
  resolve: (outcome: CommandOutcome) => void;
  timer: NodeJS.Timeout;
}

export class PendingCommands {
  private readonly pending = new Map<string, Pending>();

  wait(id: string, nodeId: string, timeoutMs: number): Promise<CommandOutcome> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ ok: false, error: `The node did not answer within ${Math.round(timeoutMs / 1000)} s.` });
      }, timeoutMs);
      this.pending.set(id, { nodeId, resolve, timer });
    });
  }

  /** A result arrived; false when no such command is waiting for this node. */
  settle(id: string, nodeId: string, outcome: CommandOutcome): boolean {
    const entry = this.pending.get(id);
    if (!entry || entry.nodeId !== nodeId) return false;
    clearTimeout(entry.timer);
    this.pending.delete(id);
    entry.resolve(outcome);
    return true;
  }

  /** The node went away: every command waiting on it fails now rather than at its timeout. */
  failNode(nodeId: string, error: string): void {
    for (const [id, entry] of this.pending)
      if (entry.nodeId === nodeId) this.settle(id, nodeId, { ok: false, error });
  }

  failAll(error: string): void {
    for (const [id, entry] of this.pending) this.settle(id, entry.nodeId, { ok: false, error });
  }
}
