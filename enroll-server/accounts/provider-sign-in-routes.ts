/**
 * Sign-in with the providers the operator configured (HOMENODE_OIDC_PROVIDERS):
 * `GET /v1/auth/providers` lists them for the sign-in page; `GET /v1/auth/oidc/:provider/start`
 * redirects to the provider's login page with a sealed check cookie (SameSite=Lax, because the
 * provider's redirect back is a cross-site navigation); `GET /v1/auth/oidc/:provider/callback`
 * checks state, PKCE and nonce, links or creates the owner, sets the session cookie and redirects
 * to the dashboard. Failures redirect to `/login?error=<reason>`: the page explains each reason
 * (a code, never text from the URL, so nobody can put words on our page).
 */
import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ActivityLog } from '../core/activity-log.js';
import { NotFoundError, RateLimitedError } from '../core/errors.js';
import type { AttemptRepository } from '../core/attempt-repository.js';
import { SharedFailureLimiter } from '../core/failure-limiter.js';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import { type ExternalAccounts, SignInRefusedError } from './external-accounts.js';
import { setSessionCookie } from './session-cookie.js';
import type { SessionService } from './session-service.js';
import { ProviderError, type SignInProvider } from './sign-in-provider.js';
import { SIGN_IN_COOKIE, SIGN_IN_LIFETIME_MS, openSignIn, sealSignIn } from './sign-in-state.js';

export interface ProviderSignInDeps {
  providers: readonly SignInProvider[];
  accounts: ExternalAccounts;
  sessions: SessionService;
  activity: ActivityLog;
  /** Failed callbacks are counted here, shared by every replica. */
  attempts: AttemptRepository;
  /** Seals the check cookie (derived from the server's secret). */
  stateKey: Buffer;
  publicUrl: string;
  now: () => number;
  /** Failed callbacks per client address per 15 minutes. */
  failuresPerAddress?: number;
}

const ProviderParams = Type.Object({ provider: Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' }) });

export function providerSignInRoutes(app: App, deps: ProviderSignInDeps): void {
  const byId = new Map(deps.providers.map((p) => [p.id, p]));
  const secure = deps.publicUrl.startsWith('https:');
  const cookiePath = '/v1/auth/oidc/';
  const failures = new SharedFailureLimiter(deps.attempts, {
    scope: 'provider-sign-in-address',
    windowMs: 15 * 60_000,
    limit: deps.failuresPerAddress ?? 30,
    now: deps.now,
    onError: (error) => app.log.error({ err: error }, 'expired sign-in attempt counts could not be pruned'),
  });
  const redirectUri = (id: string) => `${deps.publicUrl}/v1/auth/oidc/${id}/callback`;
  const provider = (id: string) => {
    const found = byId.get(id);
    if (!found) throw new NotFoundError(`No sign-in provider '${id}' is configured here.`);
    return found;
  };
  const clearCheck = (reply: FastifyReply) =>
    reply.clearCookie(SIGN_IN_COOKIE, { path: cookiePath, httpOnly: true, sameSite: 'lax', secure });

  app.get(
    '/v1/auth/providers',
    {
      schema: {
        tags: ['session'],
        summary: 'The sign-in providers this server offers (one button each on the sign-in page)',
        response: {
          200: Type.Object({
            providers: Type.Array(
              Type.Object({ id: Type.String(), name: Type.String(), startUrl: Type.String() }),
            ),
          }),
        },
      },
      config: { auth: 'public' },
    },
    async () => ({
      providers: deps.providers.map((p) => ({
        id: p.id,
        name: p.name,
        startUrl: `/v1/auth/oidc/${p.id}/start`,
      })),
    }),
  );

  app.get(
    '/v1/auth/oidc/:provider/start',
    {
      schema: {
        tags: ['session'],
        summary: "Redirect to the provider's login page (sets a ten-minute check cookie)",
        params: ProviderParams,
        response: { 302: Type.Null(), ...errors(404, 502) },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const p = provider(request.params.provider);
      let started;
      try {
        started = await p.start(redirectUri(p.id));
      } catch (error) {
        request.log.warn(
          { err: error, event: 'sign_in_provider_unreachable', provider: p.id },
          'provider unreachable',
        );
        return reply.redirect('/login?error=provider', 302);
      }
      void reply.setCookie(SIGN_IN_COOKIE, sealSignIn(deps.stateKey, p.id, started.check, deps.now()), {
        path: cookiePath,
        httpOnly: true,
        sameSite: 'lax',
        secure,
        maxAge: SIGN_IN_LIFETIME_MS / 1000,
      });
      return reply.header('cache-control', 'no-store').redirect(started.url, 302);
    },
  );

  const fail = async (request: FastifyRequest, reply: FastifyReply, reason: string, error?: unknown) => {
    await failures.recordFailure(request.ip);
    request.log.warn({ err: error, event: 'sign_in_refused', reason }, 'provider sign-in refused');
    clearCheck(reply);
    return reply.redirect(`/login?error=${reason}`, 302);
  };

  app.get(
    '/v1/auth/oidc/:provider/callback',
    {
      schema: {
        tags: ['session'],
        summary: 'Where the provider sends the person back: signs them in and redirects to the dashboard',
        params: ProviderParams,
        querystring: Type.Object({
          code: Type.Optional(Type.String({ maxLength: 2048 })),
          state: Type.Optional(Type.String({ maxLength: 512 })),
          error: Type.Optional(Type.String({ maxLength: 256 })),
        }),
        response: { 302: Type.Null(), ...errors(404, 429) },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const wait = await failures.retryAfterSeconds(request.ip);
      if (wait > 0)
        throw new RateLimitedError(
          `Too many failed sign-ins from this address. Try again in ${wait} seconds.`,
          wait,
        );
      const p = provider(request.params.provider);
      const check = openSignIn(deps.stateKey, request.cookies[SIGN_IN_COOKIE], p.id, deps.now());
      if (!check) return fail(request, reply, 'expired');
      const query = request.raw.url?.split('?')[1] ?? '';
      let profile;
      try {
        profile = await p.finish(new URL(`${redirectUri(p.id)}?${query}`), redirectUri(p.id), check);
      } catch (error) {
        return fail(request, reply, error instanceof ProviderError ? error.reason : 'provider', error);
      }
      let signedIn;
      try {
        signedIn = await deps.accounts.signIn(p.id, profile);
      } catch (error) {
        if (error instanceof SignInRefusedError) return fail(request, reply, error.reason);
        throw error;
      }
      const { secret, session } = await deps.sessions.open(signedIn.tokenId, 'oidc');
      await deps.activity.record(
        deps.now(),
        { type: 'token', id: signedIn.tokenId, role: 'owner' },
        'session.opened',
        { type: 'token', id: signedIn.tokenId },
        { sessionId: session.id, method: 'oidc', provider: p.id, outcome: signedIn.outcome },
      );
      clearCheck(reply);
      setSessionCookie(reply, secret, { secure, maxAgeMs: deps.sessions.limits.absoluteMs });
      return reply.header('cache-control', 'no-store').redirect('/machines', 302);
    },
  );
}
