/**
 * `GET /v1/control`: the nodes' WebSocket control channel. The node's JWT is checked before the
 * upgrade, so a refused node gets an HTTP status and an error body it can show on its screen.
 */
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import type { Policy } from '../../protocol/policy.js';
import { AppError, NodeRevokedError, UnauthenticatedError } from '../core/errors.js';
import type { App } from '../core/http.js';
import type { Metrics } from '../core/metrics.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { ControlHub } from './hub.js';
import { NodeAuthError, ReplayCache, verifyNodeToken } from './node-token.js';

class NodeRejectedError extends AppError {
  override readonly code = 'NODE_REJECTED';
  override readonly status = 403;
}

export interface NodeChannelDeps {
  hub: ControlHub;
  repos: { nodes: NodeRepository };
  policy: Policy;
  metrics: Metrics;
  now: () => number;
  /** Shared with the other routes nodes call with their JWT (the network probe). */
  replay?: ReplayCache;
}

export function nodeChannelRoutes(app: App, ctx: NodeChannelDeps): void {
  const replay = ctx.replay ?? new ReplayCache(ctx.now);
  const { hub, repos } = ctx;

  app.get(
    '/v1/control',
    {
      websocket: true,
      schema: { hide: true },
      config: { auth: 'public' },
      preValidation: async (request) => {
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
          request.controlNode = node;
        } catch (error) {
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
      if (request.controlNode) hub.attach(request.controlNode, socket);
      else socket.close(4401, 'unauthenticated');
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The node whose token the control-channel upgrade verified. */
    controlNode?: NodeRecord;
  }
}
