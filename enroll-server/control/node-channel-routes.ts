/**
 * `GET /v1/control`: the nodes' WebSocket control channel. The node's JWT is checked before the
 * upgrade (`authenticateNode`), so a refused node gets an HTTP status and an error body it can show
 * on its screen.
 */
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { CONTROL_AUDIENCE } from '../../protocol/control.js';
import type { Policy } from '../../protocol/policy.js';
import { AppError } from '../core/errors.js';
import type { App } from '../core/http.js';
import type { Metrics } from '../core/metrics.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { ControlHub } from './hub.js';
import { asHttpError, authenticateNode } from './node-auth.js';
import { NodeAuthError, type ReplayCache } from './node-token.js';

export interface NodeChannelDeps {
  hub: ControlHub;
  repos: { nodes: NodeRepository };
  /** Shared with every node route (artifact downloads): a token is good for one request only. */
  replay: ReplayCache;
  policy: Policy;
  metrics: Metrics;
  now: () => number;
}

export function nodeChannelRoutes(app: App, ctx: NodeChannelDeps): void {
  const { hub, repos } = ctx;
  const auth = {
    nodes: repos.nodes,
    replay: ctx.replay,
    maxSkewSeconds: ctx.policy.maxClockSkewSeconds,
    now: ctx.now,
  };

  app.get(
    '/v1/control',
    {
      websocket: true,
      schema: { hide: true },
      config: { auth: 'public' },
      preValidation: async (request) => {
        try {
          request.controlNode = await authenticateNode(request.headers.authorization, CONTROL_AUDIENCE, auth);
        } catch (error) {
          const code =
            error instanceof NodeAuthError
              ? error.code
              : error instanceof AppError
                ? error.code
                : 'AUTH_FAILED';
          ctx.metrics.controlAuthFailures.inc({ code });
          throw asHttpError(error);
        }
      },
    },
    (socket: WebSocket, request) => {
      const node = request.controlNode;
      // The request lives as long as the socket: it must not keep the record (hardware and all).
      request.controlNode = undefined;
      if (node) hub.attach(node, socket);
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
