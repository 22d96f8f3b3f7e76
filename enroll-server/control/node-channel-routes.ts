/**
 * `GET /v1/control`: the nodes' WebSocket control channel. The connection limits and the node's
 * JWT (`authenticateNode`) are checked before the upgrade, so a refused node gets an HTTP status
 * (with `Retry-After` when it should wait) and an error body it can show on its screen.
 */
import type {} from '@fastify/websocket';
import type { WebSocket } from 'ws';
import { CLOSE_CODES, CONTROL_AUDIENCE } from '../../protocol/control.js';
import type { Policy } from '../../protocol/policy.js';
import { AppError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { errors, switchingProtocols } from '../core/schemas.js';
import type { Metrics } from '../core/metrics.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { ConnectionGate, ConnectionTicket } from './connection-gate.js';
import type { ControlHub } from './hub.js';
import { asHttpError, authenticateNode } from './node-auth.js';
import { NodeAuthError, type ReplayCache } from './node-token.js';

export interface NodeChannelDeps {
  hub: ControlHub;
  gate: ConnectionGate;
  repos: { nodes: NodeRepository };
  /**
   * Shared with every node route (artifact downloads, the network probe): a token is good for one
   * request only.
   */
  replay: ReplayCache;
  policy: Policy;
  metrics: Metrics;
  now: () => number;
}

export function nodeChannelRoutes(app: App, ctx: NodeChannelDeps): void {
  const { hub, repos, gate } = ctx;
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
        let node: NodeRecord;
        try {
          node = await authenticateNode(request.headers.authorization, CONTROL_AUDIENCE, auth);
        } catch (error) {
          ticket.failed();
          const code =
            error instanceof NodeAuthError
              ? error.code
              : error instanceof AppError
                ? error.code
                : 'AUTH_FAILED';
          ctx.metrics.controlAuthFailures.inc({ code });
          throw asHttpError(error);
        }
        // A node that proved who it is but connects too often is refused alone: its reconnects
        // are not failures of its address, which other machines behind the same router share.
        try {
          gate.nodeConnect(node.id);
        } catch (error) {
          ctx.metrics.controlAuthFailures.inc({ code: error instanceof AppError ? error.code : 'LIMIT' });
          throw error;
        }
        request.controlNode = node;
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
