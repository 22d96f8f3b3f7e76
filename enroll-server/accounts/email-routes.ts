/**
 * Mailed links: `POST /v1/auth/verify-email { token }`, `POST /v1/auth/verify-email/resend`,
 * `POST /v1/auth/password-reset { email }` (202 whether or not the address is known) and
 * `POST /v1/auth/password-reset/confirm { token, password }` (204), plus `GET /v1/me/account`.
 * A stranger can send these: requests and bad tokens are rate-limited per client address.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import { NotFoundError, RateLimitedError } from '../core/errors.js';
import type { AttemptRepository } from '../core/attempt-repository.js';
import { SharedFailureLimiter } from '../core/failure-limiter.js';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import type { CredentialRepository } from './credential-repository.js';
import type { EmailLinkRepository } from './email-link-repository.js';
import { LINK_TOKEN_PATTERN } from './email-link-tokens.js';
import type { EmailVerification } from './email-verification.js';
import type { IdentityRepository } from './identity-repository.js';
import type { OwnerRepository } from './owner-repository.js';
import type { PasswordReset } from './password-reset.js';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from './passwords.js';

export interface LinkRateLimit {
  windowSeconds: number;
  /** Reset requests per client address per window (answered or not). */
  resetRequestsPerAddress: number;
  /** Unknown, used or expired link tokens per client address per window. */
  badLinksPerAddress: number;
}

export const DEFAULT_LINK_RATE_LIMIT: LinkRateLimit = {
  windowSeconds: 900,
  resetRequestsPerAddress: 10,
  badLinksPerAddress: 20,
};

const Token = Type.String({ pattern: LINK_TOKEN_PATTERN, description: 'the token from the mailed link' });

const AccountSchema = Type.Object({
  ownerId: Type.String(),
  email: Type.String(),
  name: Type.String(),
  emailVerified: Type.Boolean(),
  passwordSet: Type.Boolean(),
  providers: Type.Array(Type.String()),
});

export interface EmailRouteDeps {
  verification: EmailVerification;
  reset: PasswordReset;
  repos: {
    owners: OwnerRepository;
    emailLinks: EmailLinkRepository;
    credentials: CredentialRepository;
    identities: IdentityRepository;
    attempts: AttemptRepository;
  };
  now: () => number;
  rateLimit?: LinkRateLimit;
}

export function emailRoutes(app: App, deps: EmailRouteDeps): void {
  const limit = deps.rateLimit ?? DEFAULT_LINK_RATE_LIMIT;
  const windowMs = limit.windowSeconds * 1000;
  // Counted in the database: every replica sees the same requests and bad links.
  const shared = (scope: string, max: number) =>
    new SharedFailureLimiter(deps.repos.attempts, {
      scope,
      windowMs,
      limit: max,
      now: deps.now,
      onError: (error) => app.log.error({ err: error }, 'expired link attempt counts could not be pruned'),
    });
  const resetRequests = shared('reset-request-address', limit.resetRequestsPerAddress);
  const badLinks = shared('bad-link-address', limit.badLinksPerAddress);

  const guard = async (limiter: SharedFailureLimiter, request: FastifyRequest, what: string) => {
    const wait = await limiter.retryAfterSeconds(request.ip);
    if (wait > 0)
      throw new RateLimitedError(`Too many ${what} from this address. Try again in ${wait} seconds.`, wait);
  };
  /** Runs `work`; a refused link counts against the client address. */
  const withLink = async <T>(request: FastifyRequest, work: () => Promise<T>): Promise<T> => {
    await guard(badLinks, request, 'links that did not work');
    try {
      return await work();
    } catch (error) {
      await badLinks.recordFailure(request.ip);
      throw error;
    }
  };

  app.post(
    '/v1/auth/verify-email',
    {
      schema: {
        tags: ['session'],
        summary: "Confirm an owner's email address with the token from the mailed link",
        body: Type.Object({ token: Token }, { additionalProperties: false }),
        response: {
          200: Type.Object({ verified: Type.Literal(true), email: Type.String() }),
          ...errors(400, 429),
        },
      },
      config: { auth: 'public' },
    },
    async (request) => {
      const { email } = await withLink(request, () => deps.verification.verify(request.body.token));
      return { verified: true as const, email };
    },
  );

  app.post(
    '/v1/auth/verify-email/resend',
    {
      schema: {
        tags: ['session'],
        summary: 'Send the confirmation mail again (at most three an hour)',
        response: { 202: Type.Object({ sentTo: Type.String() }), ...errors(401, 403, 409, 429) },
      },
      config: { auth: ['owner'] },
    },
    async (request, reply) => {
      const { email } = await deps.verification.resend(principalOf(request).ownerId ?? '');
      return reply.code(202).send({ sentTo: email });
    },
  );

  app.post(
    '/v1/auth/password-reset',
    {
      schema: {
        tags: ['session'],
        summary: 'Mail a password-reset link; answers 202 whether or not the address is known',
        body: Type.Object(
          { email: Type.String({ format: 'email', maxLength: 254 }) },
          { additionalProperties: false },
        ),
        response: { 202: Type.Object({ accepted: Type.Literal(true) }), ...errors(400, 429) },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      await guard(resetRequests, request, 'password-reset requests');
      await resetRequests.recordFailure(request.ip);
      await deps.reset.request(request.body.email);
      return reply.code(202).send({ accepted: true as const });
    },
  );

  app.post(
    '/v1/auth/password-reset/confirm',
    {
      schema: {
        tags: ['session'],
        summary: "Set a new password with the reset link's token; ends the account's other sessions",
        body: Type.Object(
          {
            token: Token,
            password: Type.String({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH }),
          },
          { additionalProperties: false },
        ),
        response: { 204: Type.Null(), ...errors(400, 429) },
      },
      config: { auth: 'optional' },
    },
    async (request, reply) => {
      await withLink(request, () =>
        deps.reset.confirm(request.body.token, request.body.password, request.session?.id ?? null),
      );
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/me/account',
    {
      schema: {
        tags: ['session'],
        summary: "The signed-in owner's account: address, whether it is confirmed, how they sign in",
        response: { 200: AccountSchema, ...errors(401, 403, 404) },
      },
      config: { auth: ['owner'] },
    },
    async (request) => {
      const ownerId = principalOf(request).ownerId ?? '';
      const owner = await deps.repos.owners.get(ownerId);
      if (!owner) throw new NotFoundError('Owner not found.');
      const credentials = await deps.repos.credentials.forOwner(ownerId);
      return {
        ownerId,
        email: owner.email,
        name: owner.name,
        emailVerified: (await deps.repos.emailLinks.verifiedAt(ownerId)) !== null,
        passwordSet: credentials?.passwordUsable ?? false,
        providers: (await deps.repos.identities.forOwner(ownerId)).map((i) => i.provider),
      };
    },
  );
}
