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
  /** Size of the recording file, and whether it stopped at its cap. */
  recordedBytes: number;
  recordingTruncated: boolean;
}

export interface ShellSessionEnd {
  at: number;
  reason: string;
  bytesOut: number;
  recordedBytes: number;
  recordingTruncated: boolean;
}

export interface ShellSessionRepository {
  open(
    s: Pick<ShellSessionRecord, 'id' | 'nodeId' | 'openedBy' | 'openedAt' | 'recordingPath'>,
  ): Promise<void>;
  close(id: string, end: ShellSessionEnd): Promise<void>;
  get(id: string): Promise<ShellSessionRecord | undefined>;
  /** Newest first. */
  forNode(nodeId: string, limit: number, offset: number): Promise<ShellSessionRecord[]>;
  /** Bytes recorded by the node's closed sessions opened at or after `since`. */
  recordedBytesSince(nodeId: string, since: number): Promise<number>;
}
