/** Commands sent to nodes with their results, and remote shell sessions with their recordings. */
export interface CommandRun {
  id: string;
  nodeId: string;
  name: string;
  args: Record<string, unknown>;
  requestedBy: string | null;
  requestedAt: number;
  finishedAt: number | null;
  ok: boolean | null;
  output: string | null;
  error: string | null;
}

export interface CommandRepository {
  create(
    run: Pick<CommandRun, 'id' | 'nodeId' | 'name' | 'args' | 'requestedBy' | 'requestedAt'>,
  ): Promise<void>;
  /** Records the result once; a second result for the same command is ignored. */
  finish(id: string, at: number, ok: boolean, output: string | null, error: string | null): Promise<void>;
  get(id: string): Promise<CommandRun | undefined>;
  /** Newest first. */
  forNode(nodeId: string, limit: number): Promise<CommandRun[]>;
}

export interface ShellSessionRecord {
  id: string;
  nodeId: string;
  openedBy: string;
  openedAt: number;
  closedAt: number | null;
  closeReason: string | null;
  recordingPath: string;
  bytesOut: number;
}

export interface ShellSessionRepository {
  open(
    s: Pick<ShellSessionRecord, 'id' | 'nodeId' | 'openedBy' | 'openedAt' | 'recordingPath'>,
  ): Promise<void>;
  close(id: string, at: number, reason: string, bytesOut: number): Promise<void>;
  /** Newest first. */
  forNode(nodeId: string): Promise<ShellSessionRecord[]>;
}
