/**
 * Authentication and role checks. Every `/v1` route must declare who may call it in `config.auth`
 * (`'public'` or a list of roles); a route without it fails at start-up, so no route can ship
 * unprotected by accident.
 *
 * Two ways in: `Authorization: Bearer <api token>` (scripts, the CLI), or the dashboard's session
 * cookie, which authenticates exactly like the token it was opened with. Cookie-authenticated
 * requests that change something must carry the session's CSRF token in `X-CSRF-Token`, and a
 * cookie-authenticated WebSocket upgrade must come from our own origin (browsers send cookies on
 * WebSocket handshakes but cannot add headers). Bearer requests need neither: no browser adds them.
 */
import { timingSafeEqual } from 'node:crypto';
import type {} from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../../protocol/api.js';
import type { Actor } from './activity-log.js';
import { ForbiddenError, UnauthenticatedError } from './errors.js';

/** The dashboard's session cookie and the header cookie-authenticated changes must carry. */
export const SESSION_COOKIE = 'hn_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface Principal {
  tokenId: string;
  role: Role;
  ownerId: string | null;
}

/** A live dashboard session, as authentication sees it. */
export interface AuthSession {
  id: string;
  csrfToken: string;
  expiresAt: number;
}

/** How credentials are checked (accounts implements it: token hashes, cookie sessions). */
export interface Credentials {
  /** The principal of an active API token, or undefined. */
  byToken(token: string): Promise<Principal | undefined>;
  /** The principal and session of a live session cookie secret, or undefined. */
  bySession(secret: string): Promise<{ principal: Principal; session: AuthSession } | undefined>;
}

/** `'optional'`: anyone may call; a valid credential sets the principal, a missing or bad one does not. */
export type RouteAuth = 'public' | 'optional' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    principal: Principal | null;
    /** Set when the request was authenticated by the dashboard's session cookie. */
    session: AuthSession | null;
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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** True when the request's Origin names this very server (scheme-agnostic host comparison). */
function sameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (!origin) return false;
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: AuthSession, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(header);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function registerAuth(app: FastifyInstance, credentials: Credentials): void {
  app.decorateRequest('principal', null);
  app.decorateRequest('session', null);

  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1') && route.config?.auth === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} does not declare config.auth`);
    }
  });

  app.addHook('onRequest', async (request) => {
    const auth = request.routeOptions.config.auth;
    if (auth === undefined || auth === 'public') return;
    if (auth === 'optional') {
      try {
        await authenticate(request, ['admin', 'ops', 'reviewer', 'owner']);
      } catch {
        request.principal = null;
        request.session = null;
      }
      return;
    }
    await authenticate(request, auth);
  });

  async function authenticate(request: FastifyRequest, auth: readonly Role[]): Promise<void> {
    const header = request.headers.authorization;
    const cookie = request.cookies?.[SESSION_COOKIE];
    if (header === undefined && cookie) {
      const found = await credentials.bySession(cookie);
      if (!found) throw new UnauthenticatedError('Your session has ended. Sign in again.');
      if (!SAFE_METHODS.has(request.method) && !csrfMatches(found.session, request.headers[CSRF_HEADER])) {
        throw new ForbiddenError(
          `This request changes something and must carry the session's ${CSRF_HEADER} header. Reload the page and try again.`,
          { details: { reason: 'CSRF' } },
        );
      }
      if (request.headers.upgrade?.toLowerCase() === 'websocket' && !sameOrigin(request)) {
        throw new ForbiddenError('A WebSocket opened with a session cookie must come from this site.', {
          details: { reason: 'ORIGIN' },
        });
      }
      request.session = found.session;
      request.principal = found.principal;
    } else {
      const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
      if (!match?.[1]) {
        throw new UnauthenticatedError(
          'This request needs an API token: send "Authorization: Bearer <token>", or sign in on the dashboard.',
        );
      }
      const principal = await credentials.byToken(match[1]);
      if (!principal) throw new UnauthenticatedError('The API token is unknown or has been revoked.');
      request.principal = principal;
    }
    if (!auth.includes(request.principal.role)) {
      throw new ForbiddenError(`The ${request.principal.role} role may not do this.`);
    }
  }
}
