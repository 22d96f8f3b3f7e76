/**
 * The routes replicas call on each other, under `/internal/v1`, registered only where the shared
 * `HOMENODE_REPLICA_SECRET` is set. Each request carries a replica token for this very replica;
 * everything else is refused before the upgrade.
 */
import type {} from '@fastify/websocket';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { ForbiddenError, NotFoundError, UnauthenticatedError, ConflictError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { type ShellRelayDeps, openShellSession } from '../control/shell-relay.js';
import { ReplicaAuthError, type ShellGrant, verifyShellGrant } from './replica-token.js';

export interface ReplicaRouteDeps {
  relay: ShellRelayDeps;
  /** Whether this API token is still active and may open shells (admin, ops). */
  operatorMayOpenShells: (tokenId: string) => Promise<boolean>;
  replicaId: string;
  secret: string;
  now: () => number;
}

export function replicaRoutes(app: App, ctx: ReplicaRouteDeps): void {
  const { hub } = ctx.relay;
  app.get(
    '/internal/v1/nodes/:id/shell',
    {
      websocket: true,
      schema: {
        hide: true,
        params: Type.Object({ id: Type.String({ pattern: '^[A-Za-z0-9_-]{1,100}$' }) }),
        querystring: Type.Object({
          cols: Type.Integer({ minimum: 10, maximum: 500 }),
          rows: Type.Integer({ minimum: 5, maximum: 200 }),
        }),
      },
      config: { auth: 'public' },
      preValidation: async (request) => {
        const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
        if (!token) throw new UnauthenticatedError('Replica routes need a replica token.');
        let grant: ShellGrant;
        try {
          grant = await verifyShellGrant(ctx.secret, token, ctx.replicaId, ctx.now());
        } catch (error) {
          if (error instanceof ReplicaAuthError) throw new UnauthenticatedError(error.message);
          throw error;
        }
        const { id } = request.params;
        if (grant.nodeId !== id) throw new ForbiddenError('The replica token is for another node.');
        // The operator's token is checked again here: a token revoked meanwhile opens nothing.
        if (!(await ctx.operatorMayOpenShells(grant.principal.tokenId)))
          throw new ForbiddenError(
            'The operator behind this shell may not open one (token revoked or role changed).',
          );
        if (!hub.isConnected(id))
          throw new ConflictError(`Node ${id} is not connected to this replica.`, {
            details: { reason: 'NODE_OFFLINE' },
          });
        if (!hub.shellEnabled(id)) throw new NotFoundError(`Node ${id} has remote shells disabled.`);
        request.replicaGrant = grant;
      },
    },
    (socket: WebSocket, request) => {
      const grant = request.replicaGrant;
      if (!grant) return socket.close(4401, 'unauthenticated');
      openShellSession(
        ctx.relay,
        socket,
        request.params.id,
        grant.principal,
        request.query.cols,
        request.query.rows,
      );
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The shell another replica asked for, as its token grants it. */
    replicaGrant?: ShellGrant;
  }
}
