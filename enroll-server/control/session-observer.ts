/**
 * Told when a node's live session on this server starts, says hello and ends: the replica
 * registry (`replicas/`) listens, so that every replica knows which one holds which node.
 */
export interface SessionObserver {
  attached(nodeId: string, sessionId: string, at: number): void;
  hello(nodeId: string, sessionId: string, shellEnabled: boolean): void;
  ended(nodeId: string, sessionId: string): void;
}
