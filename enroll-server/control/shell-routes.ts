/** `GET /v1/nodes/:id/shell` (ops' remote terminal, a WebSocket) and the list of shell sessions. */
import type {} from '@fastify/websocket';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { principalOf } from '../core/auth.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../core/errors.js';
import type { App } from '../core/http.js';
import {
  IdParams,
  IsoTime,
  NullableIsoTime,
  errors,
  iso,
  isoOrNull,
  switchingProtocols,
} from '../core/schemas.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { ShellSessionRepository } from './command-repository.js';
import { type ShellRelayDeps, openShellSession } from './shell-relay.js';

export interface ShellRouteDeps extends ShellRelayDeps {
  repos: ShellRelayDeps['repos'] & { nodes: NodeRepository; shellSessions: ShellSessionRepository };
}

export function shellRoutes(app: App, ctx: ShellRouteDeps): void {
  const { hub, repos } = ctx;

  app.get(
    '/v1/nodes/:id/shell',
    {
      websocket: true,
      schema: {
        operationId: 'openShell',
        tags: ['nodes'],
        summary: 'An interactive remote shell on a node (WebSocket)',
        description:
          'Upgrade to a WebSocket (ops and admins; a dashboard session cookie only from our own origin). Binary or text frames from the browser are keystrokes; text frames `{ "type": "resize", "cols", "rows" }` resize the terminal; the server sends the terminal\'s output. The node must be online with remote shells on (409 `NODE_OFFLINE`, 403 `SHELL_DISABLED`). Every session is recorded (asciicast v2).',
        params: IdParams,
        querystring: Type.Object({
          cols: Type.Optional(Type.Integer({ minimum: 10, maximum: 500 })),
          rows: Type.Optional(Type.Integer({ minimum: 5, maximum: 200 })),
        }),
        response: {
          101: switchingProtocols('Switching Protocols: the shell is open'),
          ...errors(404, 409),
        },
      },
      config: { auth: ['admin', 'ops'] },
      preValidation: async (request) => {
        const { id } = request.params;
        if (!(await repos.nodes.get(id))) throw new NotFoundError(`Node ${id} not found.`);
        if (!hub.isConnected(id))
          throw new ConflictError(`Node ${id} is offline.`, { details: { reason: 'NODE_OFFLINE' } });
        if (!hub.shellEnabled(id))
          throw new ForbiddenError(`Remote shells are disabled on node ${id} by its configuration.`, {
            details: { reason: 'SHELL_DISABLED' },
          });
      },
    },
    (socket: WebSocket, request) => {
      const { id } = request.params;
      const query = request.query;
      openShellSession(ctx, socket, id, principalOf(request), query.cols ?? 80, query.rows ?? 24);
    },
  );

  app.get(
    '/v1/nodes/:id/shell-sessions',
    {
      schema: {
        operationId: 'listShellSessions',
        tags: ['nodes'],
        summary: "A node's remote shell sessions",
        params: IdParams,
        response: {
          200: Type.Object({
            sessions: Type.Array(
              Type.Object({
                id: Type.String(),
                openedBy: Type.String(),
                openedAt: IsoTime,
                closedAt: NullableIsoTime,
                closeReason: Type.Union([Type.String(), Type.Null()]),
                bytesOut: Type.Integer(),
              }),
            ),
          }),
          ...errors(401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request) => ({
      sessions: (await repos.shellSessions.forNode(request.params.id)).map((s) => ({
        ...s,
        openedAt: iso(s.openedAt),
        closedAt: isoOrNull(s.closedAt),
      })),
    }),
  );
}
