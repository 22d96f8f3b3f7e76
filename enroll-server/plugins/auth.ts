/**
 * Bearer-token authentication and role checks. Every `/v1` route must declare who may call it in
 * `config.auth` (`'public'` or a list of roles); a route without it fails at start-up, so no route
 * can ship unprotected by accident.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../../protocol/api.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import { sha256Hex } from '../ids.js';
import type { Actor } from '../repositories/audit.js';
import type { TokenRepository } from '../repositories/tokens.js';

export interface Principal {
  tokenId: string;
  role: Role;
  ownerId: string | null;
}

export type RouteAuth = 'public' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The principal of an authenticated route (the hook guarantees it is set). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new UnauthenticatedError('Sign in with an API token.');
  return request.principal;
}

export function actorOf(principal: Principal): Actor {
  return { type: 'token', id: principal.tokenId, role: principal.role };
}

export function registerAuth(app: FastifyInstance, tokens: TokenRepository): void {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1') && route.config?.auth === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare config.auth`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (auth === undefined || auth === 'public') return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1]) {
      throw new UnauthenticatedError(
        'This request needs an API token: send "Authorization: Bearer <token>".',
      );
    }
    const record = tokens.findActiveByHash(sha256Hex(match[1]));
    if (!record) throw new UnauthenticatedError('The API token is unknown or has been revoked.');
    request.principal = { tokenId: record.id, role: record.role, ownerId: record.ownerId };
    if (!auth.includes(record.role)) {
      throw new ForbiddenError(`The ${record.role} role may not do this.`);
    }
  });
}
