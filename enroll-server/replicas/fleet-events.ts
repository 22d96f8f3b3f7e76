/**
 * Node status changes for the whole fleet: an approval on one replica reaches the replica that
 * holds the node's session at once (over the bus), and that one pushes it to the node. The
 * publishing replica's own listeners hear it straight away, as with one process.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { MessageBus } from '../core/message-bus.js';
import type { NodeEvents, NodeStatusEvent } from '../nodes/node-events.js';
import { parseBusMessage } from './bus-messages.js';

export function createFleetEvents(deps: {
  local: NodeEvents;
  bus: MessageBus;
  replicaId: string;
  log: FastifyBaseLogger;
}): NodeEvents & { close(): void } {
  const { local, bus, replicaId, log } = deps;
  const unsubscribe = bus.subscribe('node_status', (payload) => {
    const message = parseBusMessage('node_status', payload);
    if (!message)
      return log.warn(
        { event: 'bus_message_invalid', channel: 'node_status' },
        'ignored a malformed message',
      );
    if (message.origin === replicaId) return;
    local.emit({ nodeId: message.nodeId, status: message.status, reason: message.reason });
  });
  return {
    emit(event: NodeStatusEvent) {
      local.emit(event);
      const message = {
        origin: replicaId,
        nodeId: event.nodeId,
        status: event.status,
        reason: event.reason?.slice(0, 2000) ?? null,
      };
      bus
        .publish('node_status', JSON.stringify(message))
        .catch((error: unknown) =>
          log.error(
            { err: error, nodeId: event.nodeId },
            'a status change could not be sent to the other replicas',
          ),
        );
    },
    subscribe: (listener) => local.subscribe(listener),
    // Audit outcomes are heard on the replica that records them, where notifications listen too.
    emitAudit: (event) => local.emitAudit(event),
    subscribeAudit: (listener) => local.subscribeAudit(listener),
    close: unsubscribe,
  };
}
