/** Node status changes, published for whoever must react (the control channel tells the node). */
import type { NodeStatus } from '../../protocol/api.js';

export interface NodeStatusEvent {
  nodeId: string;
  status: NodeStatus;
  reason: string | null;
}

export interface NodeEvents {
  emit(event: NodeStatusEvent): void;
  subscribe(listener: (event: NodeStatusEvent) => void): () => void;
}

export function createNodeEvents(onError: (error: unknown) => void): NodeEvents {
  const listeners = new Set<(event: NodeStatusEvent) => void>();
  return {
    emit(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch (error) {
          onError(error);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
