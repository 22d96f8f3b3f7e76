/** What the control channel tells the rollouts about (enroll-server/rollouts/): hellos, update states. */
import type { UpdateStatusMessage } from '../../protocol/update.js';

export interface UpdateFrameListener {
  /** The node said hello with this agent version. */
  hello(nodeId: string, agentVersion: string): void;
  status(nodeId: string, message: UpdateStatusMessage): Promise<void>;
  disconnected(nodeId: string): void;
}
