/**
 * `GET /v1/control`: the nodes' WebSocket control channel. The connection limits and the node's
 * JWT are checked before the upgrade, so a refused node gets an HTTP status (with `Retry-After`
 * when it should wait) and an error body it can show on its screen.
 */
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { CLOSE_CODES } from '../../protocol/control.js';
import type { Policy } from '../../protocol/policy.js';
import { AppError, NodeRevokedError, UnauthenticatedError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { errors, switchingProtocols } from '../core/schemas.js';
import type { Metrics } from '../core/metrics.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { ConnectionGate, ConnectionTicket } from './connection-gate.js';
import type { ControlHub } from './hub.js';
import { NodeAuthError, ReplayGuard, verifyNodeToken } from './node-token.js';
import type { ReplayRepository } from './replay-repository.js';

class NodeRejectedError extends AppError {
  override readonly code = 'NODE_REJECTED';
  override readonly status = 403;
}

export interface NodeChannelDeps {
  hub: ControlHub;
  gate: ConnectionGate;
  repos: { nodes: NodeRepository; replay: ReplayRepository };
  policy: Policy;
  metrics: Metrics;
  now: () => number;
}

export function nodeChannelRoutes(app: App, ctx: NodeChannelDeps): void {
  const { hub, repos, gate } = ctx;
  const replay = new ReplayGuard(repos.replay, ctx.now, (error) =>
    app.log.error({ err: error }, 'the replay guard could not write used node tokens to the database'),
  );

  app.get(
    '/v1/control',
    {
      websocket: true,
      schema: {
        operationId: 'openControlChannel',
        tags: ['control'],
        summary: "A node's control channel (WebSocket)",
        description:
          "Upgrade to a WebSocket with `Authorization: Bearer <node JWT>` (EdDSA, signed with the node's own key, `aud` `homenode-control`, `exp` ≤ 5 minutes, unique `jti`). Frames are JSON text, one message each, at most 64 KiB: the agent sends `hello`, `heartbeat`, `hardware`, `usage`, `result`, `join-result`, shell frames and `bye`; the server sends `welcome`, `status`, `join`, `ack`, `command`, `error` and shell frames (protocol/control.ts; docs/control-channel.md).",
        security: [{ bearer: [] }],
        response: {
          101: switchingProtocols('Switching Protocols: the control channel is open'),
          ...errors(401, 403),
        },
      },
      config: { auth: 'public' },
      preValidation: async (request) => {
        let ticket: ConnectionTicket;
        try {
          ticket = gate.admit(request.ip);
        } catch (error) {
          ctx.metrics.controlAuthFailures.inc({ code: error instanceof AppError ? error.code : 'LIMIT' });
          throw error;
        }
        // Held until the socket closes, whether it is upgraded or refused.
        request.raw.socket.once('close', () => ticket.release());
        request.controlTicket = ticket;
        const header = request.headers.authorization ?? '';
        const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
        try {
          let node: NodeRecord | undefined;
          await verifyNodeToken(
            token,
            async (id) => {
              node = await repos.nodes.get(id);
              return node?.publicKey;
            },
            replay,
            { now: ctx.now, maxSkewSeconds: ctx.policy.maxClockSkewSeconds },
          );
          if (!node) throw new NodeAuthError('NODE_UNKNOWN', 'This node is not known to the server.');
          if (node.status === 'revoked') {
            throw new NodeRevokedError(
              `This machine was removed by the operations team: ${node.statusReason ?? 'no reason given'}.`,
            );
          }
          if (node.status === 'rejected') {
            throw new NodeRejectedError(
              `This machine was not approved: ${node.statusReason ?? 'no reason given'}.`,
            );
          }
          gate.nodeConnect(node.id);
          request.controlNode = node;
        } catch (error) {
          ticket.failed();
          const code =
            error instanceof NodeAuthError
              ? error.code
              : error instanceof AppError
                ? error.code
                : 'AUTH_FAILED';
          ctx.metrics.controlAuthFailures.inc({ code });
          if (error instanceof NodeAuthError)
            throw new UnauthenticatedError(error.message, { details: { reason: error.code } });
          throw error;
        }
      },
    },
    (socket: WebSocket, request) => {
      const node = request.controlNode;
      // The request lives as long as the socket: it must not keep the record (hardware and all).
      request.controlNode = undefined;
      if (!node) return socket.close(CLOSE_CODES.AUTH_FAILED, 'unauthenticated');
      request.controlTicket?.live();
      hub.attach(node, socket);
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The node whose token the control-channel upgrade verified. */
    controlNode?: NodeRecord;
    /** The upgrade's place in the connection limits. */
    controlTicket?: ConnectionTicket;
  }
}
