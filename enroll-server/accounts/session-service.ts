/**
 * Dashboard sessions: an HttpOnly cookie holding a random secret (stored only as its hash) that
 * authenticates exactly like the API token it was opened with, plus a per-session CSRF token that
 * cookie-authenticated mutating requests must echo in a header.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { newId, sha256Hex } from '../core/ids.js';
import type { ApiTokenRecord, TokenRepository } from './sqlite/token-repository.js';
import type { SessionMethod, SessionRecord, SessionRepository } from './sqlite/session-repository.js';

export const SESSION_COOKIE = 'hn_session';
export const CSRF_HEADER = 'x-csrf-token';

export interface SessionLimits {
  /** A session unused this long ends. */
  idleMs: number;
  /** No session lives longer than this, however busy. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_LIMITS: SessionLimits = {
  idleMs: 12 * 60 * 60 * 1000,
  absoluteMs: 7 * 24 * 60 * 60 * 1000,
};

/** Writing `last_used_at` on every request would make each read a write; a minute is fine-grained enough. */
const TOUCH_EVERY_MS = 60_000;

export interface AuthenticatedSession {
  session: SessionRecord;
  token: ApiTokenRecord;
}

export function createSessionService(deps: {
  sessions: SessionRepository;
  tokens: TokenRepository;
  now: () => number;
  limits?: SessionLimits;
}) {
  const { sessions, tokens, now } = deps;
  const limits = deps.limits ?? DEFAULT_SESSION_LIMITS;
  const expiry = (createdAt: number, at: number) =>
    Math.min(createdAt + limits.absoluteMs, at + limits.idleMs);
  return {
    limits,
    /** Open a session on an API token; returns the cookie secret (shown only here). */
    open(tokenId: string, method: SessionMethod): { secret: string; session: SessionRecord } {
      const at = now();
      sessions.purge(at - limits.idleMs);
      const secret = randomBytes(32).toString('base64url');
      const record = {
        id: newId('ses'),
        tokenId,
        csrfToken: randomBytes(24).toString('base64url'),
        method,
        createdAt: at,
        expiresAt: expiry(at, at),
      };
      sessions.create(record, sha256Hex(secret));
      return { secret, session: { ...record, lastUsedAt: at, endedAt: null } };
    },
    /** The live session for a cookie secret whose token is still active, or undefined. */
    authenticate(secret: string): AuthenticatedSession | undefined {
      const at = now();
      const session = sessions.findActive(sha256Hex(secret), at);
      if (!session) return undefined;
      const token = tokens.get(session.tokenId);
      if (!token || token.revokedAt !== null) return undefined;
      if (at - session.lastUsedAt >= TOUCH_EVERY_MS) {
        session.expiresAt = expiry(session.createdAt, at);
        session.lastUsedAt = at;
        sessions.touch(session.id, at, session.expiresAt);
      }
      return { session, token };
    },
    end(id: string): boolean {
      return sessions.end(id, now());
    },
  };
}
export type SessionService = ReturnType<typeof createSessionService>;

/** Constant-time comparison of the CSRF header with the session's token. */
export function csrfMatches(session: SessionRecord, header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(session.csrfToken);
  const actual = Buffer.from(header);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
