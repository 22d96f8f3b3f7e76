/**
 * Dashboard sign-in: `POST /v1/session` exchanges an API token (any role) or an owner's email and
 * password for an HttpOnly session cookie; `GET /v1/session` says who is signed in (and gives the
 * CSRF token); `DELETE /v1/session` signs out; `POST /v1/signup` creates an owner with a password.
 * Failed sign-ins are rate-limited per client address and per email (429 with Retry-After).
 */
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ActivityLog } from '../core/activity-log.js';
import { SESSION_COOKIE, actorOf } from '../core/auth.js';
import { ConflictError, RateLimitedError, ServerBusyError, UnauthenticatedError } from '../core/errors.js';
import type { AttemptRepository } from '../core/attempt-repository.js';
import { SharedFailureLimiter, type SharedReservation } from '../core/failure-limiter.js';
import type { App } from '../core/http.js';
import { newApiToken, newId, sha256Hex } from '../core/ids.js';
import { IsoTime, errors, iso } from '../core/schemas.js';
import type { Transactional } from '../core/transactions.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { EmailLinkRepository } from './email-link-repository.js';
import type { EmailLinkTokens } from './email-link-tokens.js';
import { issueEmailLink } from './email-verification.js';
import type { OwnerRepository } from './owner-repository.js';
import { OwnerNameSchema, ownerName } from './schemas.js';
import { DUMMY_PASSWORD_HASH, PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, passwords } from './passwords.js';
import type { OwnerPassword, SessionRecord, SessionRepository } from './session-repository.js';
import type { SessionService } from './session-service.js';
import type { ApiTokenRecord, TokenRepository } from './token-repository.js';

export interface SignInRateLimit {
  windowSeconds: number;
  /** Failed sign-ins (token or password) per client address per window. */
  perAddress: number;
  /** Failed password sign-ins per email per window. */
  perEmail: number;
  /** Sign-ups (successful or not) per client address per window. */
  signupsPerAddress: number;
}

export const DEFAULT_SIGN_IN_RATE_LIMIT: SignInRateLimit = {
  windowSeconds: 900,
  perAddress: 30,
  perEmail: 10,
  signupsPerAddress: 10,
};

const SessionSchema = Type.Object({
  signedIn: Type.Literal(true),
  role: Type.String(),
  ownerId: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.Union([Type.String(), Type.Null()]),
  via: Type.Union([Type.Literal('cookie'), Type.Literal('bearer')]),
  csrfToken: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([IsoTime, Type.Null()]),
});

const Password = Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH });
const Email = Type.String({ format: 'email', maxLength: 254 });

const SignInBody = Type.Union([
  Type.Object({ token: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false }),
  Type.Object(
    { email: Email, password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }) },
    { additionalProperties: false },
  ),
]);

const SignUpBody = Type.Object(
  { email: Email, name: OwnerNameSchema, password: Password },
  { additionalProperties: false },
);

export interface SessionRouteDeps {
  repos: Transactional<{
    owners: OwnerRepository;
    tokens: TokenRepository;
    sessions: SessionRepository;
    activity: ActivityLog;
    emailLinks: EmailLinkRepository;
    events: EventOutbox;
    attempts: AttemptRepository;
  }>;
  sessions: SessionService;
  /** The confirmation link a sign-up mails (accounts/email-verification.ts). */
  links: EmailLinkTokens;
  now: () => number;
  /** Cookies get `Secure` when the public URL is https. */
  publicUrl: string;
  rateLimit?: SignInRateLimit;
}

export function sessionRoutes(app: App, deps: SessionRouteDeps): void {
  const { repos, now } = deps;
  const limit = deps.rateLimit ?? DEFAULT_SIGN_IN_RATE_LIMIT;
  const windowMs = limit.windowSeconds * 1000;
  // Counted in the database: every replica sees the same guesses.
  const shared = (scope: string, max: number) =>
    new SharedFailureLimiter(repos.attempts, {
      scope,
      windowMs,
      limit: max,
      now,
      onError: (error) => app.log.error({ err: error }, 'expired sign-in attempt counts could not be pruned'),
    });
  const byAddress = shared('sign-in-address', limit.perAddress);
  const byEmail = shared('sign-in-email', limit.perEmail);
  const signups = shared('sign-up-address', limit.signupsPerAddress);
  const secure = deps.publicUrl.startsWith('https:');

  /** Count the attempt before it is checked (refunded when it succeeds): parallel guesses count too. */
  const reserve = async (
    limiter: SharedFailureLimiter,
    key: string,
    what: string,
  ): Promise<SharedReservation> => {
    const reservation = await limiter.reserve(key);
    if ('retryAfterSeconds' in reservation) {
      const wait = reservation.retryAfterSeconds;
      throw new RateLimitedError(`Too many ${what}. Try again in ${wait} seconds.`, wait);
    }
    return reservation;
  };

  const describe = async (
    token: ApiTokenRecord,
    session: Pick<SessionRecord, 'csrfToken' | 'expiresAt'> | null,
  ) => {
    const owner = token.ownerId ? await repos.owners.get(token.ownerId) : undefined;
    return {
      signedIn: true as const,
      role: token.role,
      ownerId: token.ownerId,
      email: owner?.email ?? null,
      name: owner?.name ?? null,
      via: session ? ('cookie' as const) : ('bearer' as const),
      csrfToken: session?.csrfToken ?? null,
      expiresAt: session ? iso(session.expiresAt) : null,
    };
  };

  const openSession = async (reply: FastifyReply, token: ApiTokenRecord, method: SessionRecord['method']) => {
    const { secret, session } = await deps.sessions.open(token.id, method);
    void reply.setCookie(SESSION_COOKIE, secret, {
      path: '/',
      httpOnly: true,
      sameSite: 'strict',
      secure,
      maxAge: Math.floor(deps.sessions.limits.absoluteMs / 1000),
    });
    await repos.activity.record(
      now(),
      { type: 'token', id: token.id, role: token.role },
      'session.opened',
      { type: 'token', id: token.id },
      { sessionId: session.id, method },
    );
    return describe(token, session);
  };

  const clientAddress = (request: FastifyRequest) => request.ip;

  /** A hash made at a lower cost is replaced by one at today's cost, now that the password is known. */
  const rehash = async (stored: OwnerPassword, password: string) => {
    if (!passwords.needsRehash(stored.passwordHash)) return;
    try {
      const fresh = await passwords.hash(password);
      await repos.sessions.replacePasswordHash(stored.ownerId, stored.passwordHash, fresh, now());
    } catch (error) {
      if (!(error instanceof ServerBusyError)) throw error;
      // Busy: the next sign-in rehashes.
    }
  };

  app.post(
    '/v1/session',
    {
      schema: {
        operationId: 'signIn',
        tags: ['session'],
        summary: 'Sign in to the dashboard with an API token, or an owner email and password',
        body: SignInBody,
        response: { 200: SessionSchema, ...errors(400, 401, 429, 503) },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const address = clientAddress(request);
      const attempt = await reserve(byAddress, address, 'failed sign-ins from this address');
      const body = request.body;
      if ('token' in body) {
        const token = await repos.tokens.findActiveByHash(sha256Hex(body.token.trim()));
        if (!token) throw new UnauthenticatedError('That API token is unknown or has been revoked.');
        await attempt.refund();
        return openSession(reply, token, 'token');
      }
      const email = body.email.trim().toLowerCase();
      let forEmail: SharedReservation;
      try {
        forEmail = await reserve(byEmail, email, 'failed sign-ins for this email');
      } catch (error) {
        await attempt.refund();
        throw error;
      }
      const stored = await repos.sessions.passwordForEmail(email);
      let ok: boolean;
      try {
        ok = await passwords.verify(stored?.passwordHash ?? DUMMY_PASSWORD_HASH, body.password);
      } catch (error) {
        // Busy (or broken): the password was not checked, so it was no guess.
        await Promise.all([attempt.refund(), forEmail.refund()]);
        throw error;
      }
      const token = ok && stored ? await repos.tokens.get(stored.tokenId) : undefined;
      if (!stored || !token || token.revokedAt !== null)
        throw new UnauthenticatedError('The email or password is wrong.');
      await Promise.all([attempt.refund(), forEmail.refund()]);
      await rehash(stored, body.password);
      return openSession(reply, token, 'password');
    },
  );

  app.get(
    '/v1/session',
    {
      schema: {
        operationId: 'getSession',
        tags: ['session'],
        summary:
          'Who is signed in (and the CSRF token for cookie sessions); `{ signedIn: false }` when nobody is',
        response: { 200: Type.Union([SessionSchema, Type.Object({ signedIn: Type.Literal(false) })]) },
      },
      config: { auth: 'optional' },
    },
    async (request) => {
      const token = request.principal ? await repos.tokens.get(request.principal.tokenId) : undefined;
      if (!token) return { signedIn: false as const };
      return describe(token, request.session);
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: {
        operationId: 'signOut',
        tags: ['session'],
        summary: 'Sign out (ends the cookie session)',
        response: { 204: Type.Null(), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request, reply) => {
      if (request.session) await deps.sessions.end(request.session.id);
      void reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'strict', secure });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/signup',
    {
      schema: {
        operationId: 'signUp',
        tags: ['session'],
        summary:
          'Sign up as an owner with email and password (signs in at once; mails the confirmation link)',
        body: SignUpBody,
        response: { 201: SessionSchema, ...errors(400, 409, 429, 503) },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const address = clientAddress(request);
      // Every sign-up counts, successful or not.
      await reserve(signups, address, 'sign-ups from this address');
      const email = request.body.email.trim().toLowerCase();
      const name = ownerName(request.body.name);
      if (await repos.owners.getByEmail(email))
        throw new ConflictError(`An account for ${email} already exists. Sign in instead.`);
      const passwordHash = await passwords.hash(request.body.password);
      const at = now();
      const owner = { id: newId('own'), email, name, createdAt: at };
      const token: ApiTokenRecord = {
        id: newId('tok'),
        role: 'owner',
        ownerId: owner.id,
        label: 'dashboard sign-in (password)',
        createdAt: at,
        createdBy: null,
        revokedAt: null,
      };
      await repos.transaction(async (tx) => {
        if (await tx.owners.getByEmail(email))
          throw new ConflictError(`An account for ${email} already exists. Sign in instead.`);
        await tx.owners.create(owner);
        // The owner's dashboard token: never shown to anyone, only ever used through sessions.
        await tx.tokens.create(token, sha256Hex(newApiToken()));
        await tx.sessions.setPassword(owner.id, passwordHash, token.id, at);
        await issueEmailLink(tx, deps.links, owner, 'verify-email', at);
        await tx.activity.record(
          at,
          actorOf({ tokenId: token.id, role: 'owner', ownerId: owner.id }),
          'owner.signed-up',
          {
            type: 'owner',
            id: owner.id,
          },
        );
      });
      return reply.code(201).send(await openSession(reply, token, 'signup'));
    },
  );
}
