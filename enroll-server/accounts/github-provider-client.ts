/**
 * GitHub's OAuth web flow (GitHub is not an OpenID provider): the code exchange through
 * `openid-client` with GitHub's endpoints as plain OAuth 2.0 metadata (state and PKCE checked),
 * then `GET /user` for the stable numeric id and name and `GET /user/emails` for an address GitHub
 * has verified (the primary one first). Every endpoint is configurable, for GitHub Enterprise and
 * for tests against a GitHub-like stand-in.
 */
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import * as client from 'openid-client';
import type { GithubProviderConfig } from '../core/sign-in-providers-config.js';
import {
  type ExternalProfile,
  type LoginCheck,
  ProviderError,
  type SignInProvider,
} from './sign-in-provider.js';

const TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 256 * 1024;

const GithubUser = Compile(
  Type.Object({
    id: Type.Integer({ minimum: 1 }),
    login: Type.String({ maxLength: 100 }),
    name: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()])),
  }),
);
const GithubEmails = Compile(
  Type.Array(
    Type.Object({
      email: Type.String({ maxLength: 320 }),
      primary: Type.Boolean(),
      verified: Type.Boolean(),
    }),
    { maxItems: 500 },
  ),
);

async function getJson(url: string, accessToken: string): Promise<unknown> {
  const res = await fetch(url, {
    headers: {
      accept: 'application/vnd.github+json',
      authorization: `Bearer ${accessToken}`,
      'user-agent': 'HomeNode-enroll-server',
      'x-github-api-version': '2022-11-28',
    },
    redirect: 'error',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  if (text.length > MAX_BODY_BYTES) throw new Error(`${url} answered more than ${MAX_BODY_BYTES} bytes`);
  return JSON.parse(text) as unknown;
}

export function createGithubProvider(config: GithubProviderConfig): SignInProvider {
  const configuration = new client.Configuration(
    {
      issuer: new URL(config.authorizeUrl).origin,
      authorization_endpoint: config.authorizeUrl,
      token_endpoint: config.tokenUrl,
    },
    config.clientId,
    { client_secret: config.clientSecret },
    client.ClientSecretPost(config.clientSecret),
  );
  configuration.timeout = TIMEOUT_MS / 1000;
  if (new URL(config.tokenUrl).protocol === 'http:') client.allowInsecureRequests(configuration);

  return {
    id: config.id,
    name: config.name,
    async start(redirectUri) {
      const check: LoginCheck = {
        state: client.randomState(),
        nonce: null,
        verifier: client.randomPKCECodeVerifier(),
      };
      const url = client.buildAuthorizationUrl(configuration, {
        redirect_uri: redirectUri,
        scope: 'read:user user:email',
        state: check.state,
        code_challenge: await client.calculatePKCECodeChallenge(check.verifier),
        code_challenge_method: 'S256',
        allow_signup: 'true',
      });
      return { url: url.href, check };
    },
    async finish(callbackUrl, _redirectUri, check): Promise<ExternalProfile> {
      if (callbackUrl.searchParams.get('error') === 'access_denied')
        throw new ProviderError('the person declined on GitHub', 'denied');
      let accessToken: string;
      try {
        const tokens = await client.authorizationCodeGrant(configuration, callbackUrl, {
          pkceCodeVerifier: check.verifier,
          expectedState: check.state,
        });
        accessToken = tokens.access_token;
      } catch (cause) {
        throw new ProviderError('the code exchange with GitHub failed', 'provider', { cause });
      }
      try {
        const user = await getJson(config.userUrl, accessToken);
        const emails = await getJson(config.emailsUrl, accessToken);
        if (!GithubUser.Check(user) || !GithubEmails.Check(emails))
          throw new Error('GitHub answered in a shape we do not know');
        const verified = emails.filter((e) => e.verified);
        const chosen = verified.find((e) => e.primary) ?? verified[0];
        return {
          subject: String(user.id),
          email: chosen?.email.toLowerCase() ?? null,
          emailVerified: chosen !== undefined,
          name: user.name ?? user.login,
        };
      } catch (cause) {
        throw new ProviderError('reading the GitHub profile failed', 'provider', { cause });
      }
    },
  };
}
