/**
 * Dashboard sessions: an HttpOnly cookie holding a random secret (stored only as its hash) that
 * authenticates exactly like the API token it was opened with, plus a per-session CSRF token that
 * cookie-authenticated mutating requests must echo in a header (checked in core/auth.ts).
 */
import { randomBytes } from 'node:crypto';
import { newId, sha256Hex } from '../core/ids.js';
import type { SessionMethod, SessionRecord, SessionRepository } from './session-repository.js';
import type { ApiTokenRecord, TokenRepository } from './token-repository.js';

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
  repos: { sessions: SessionRepository; tokens: TokenRepository };
  now: () => number;
  limits?: SessionLimits;
}) {
  const { sessions, tokens } = deps.repos;
  const { now } = deps;
  const limits = deps.limits ?? DEFAULT_SESSION_LIMITS;
  const expiry = (createdAt: number, at: number) =>
    Math.min(createdAt + limits.absoluteMs, at + limits.idleMs);
  return {
    limits,
    /** Open a session on an API token; returns the cookie secret (shown only here). */
    async open(tokenId: string, method: SessionMethod): Promise<{ secret: string; session: SessionRecord }> {
      const at = now();
      await sessions.purge(at - limits.idleMs);
      const secret = randomBytes(32).toString('base64url');
      const record = {
        id: newId('ses'),
        tokenId,
        csrfToken: randomBytes(24).toString('base64url'),
        method,
        createdAt: at,
        expiresAt: expiry(at, at),
      };
      await sessions.create(record, sha256Hex(secret));
      return { secret, session: { ...record, lastUsedAt: at, endedAt: null } };
    },
    /** The live session for a cookie secret whose token is still active, or undefined. */
    async authenticate(secret: string): Promise<AuthenticatedSession | undefined> {
      const at = now();
      const session = await sessions.findActive(sha256Hex(secret), at);
      if (!session) return undefined;
      const token = await tokens.get(session.tokenId);
      if (!token || token.revokedAt !== null) return undefined;
      if (at - session.lastUsedAt >= TOUCH_EVERY_MS) {
        session.expiresAt = expiry(session.createdAt, at);
        session.lastUsedAt = at;
        await sessions.touch(session.id, at, session.expiresAt);
      }
      return { session, token };
    },
    end(id: string): Promise<boolean> {
      return sessions.end(id, now());
    },
  };
}
export type SessionService = ReturnType<typeof createSessionService>;
