/**
 * An OpenID Connect provider through `openid-client` (a certified relying party): discovery (cached
 * once it succeeds), the authorization code flow with PKCE (S256), state and nonce, the ID token
 * checked by the library, and the address from the ID token or the userinfo endpoint.
 */
import * as client from 'openid-client';
import type { OidcProviderConfig } from '../core/sign-in-providers-config.js';
import {
  type ExternalProfile,
  type LoginCheck,
  ProviderError,
  type SignInProvider,
} from './sign-in-provider.js';

const TIMEOUT_SECONDS = 10;

function claimString(value: unknown, max = 320): string | null {
  return typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;
}

/** Google sends a boolean; some providers send the string "true". */
const isTrue = (value: unknown) => value === true || value === 'true';

export function createOidcProvider(config: OidcProviderConfig): SignInProvider {
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = () => {
    discovered ??= client
      .discovery(new URL(config.issuer), config.clientId, config.clientSecret, undefined, {
        timeout: TIMEOUT_SECONDS,
        ...(new URL(config.issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : {}),
      })
      .then((c) => {
        c.timeout = TIMEOUT_SECONDS;
        return c;
      })
      .catch((cause: unknown) => {
        discovered = undefined;
        throw new ProviderError(`discovery of ${config.issuer} failed`, 'provider', { cause });
      });
    return discovered;
  };

  return {
    id: config.id,
    name: config.name,
    async start(redirectUri) {
      const c = await configuration();
      const check: LoginCheck = {
        state: client.randomState(),
        nonce: client.randomNonce(),
        verifier: client.randomPKCECodeVerifier(),
      };
      const url = client.buildAuthorizationUrl(c, {
        redirect_uri: redirectUri,
        scope: 'openid email profile',
        state: check.state,
        nonce: check.nonce ?? '',
        code_challenge: await client.calculatePKCECodeChallenge(check.verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, check };
    },
    async finish(callbackUrl, _redirectUri, check): Promise<ExternalProfile> {
      const c = await configuration();
      let tokens;
      try {
        tokens = await client.authorizationCodeGrant(c, callbackUrl, {
          pkceCodeVerifier: check.verifier,
          expectedState: check.state,
          expectedNonce: check.nonce ?? undefined,
          idTokenExpected: true,
        });
      } catch (cause) {
        const denied = callbackUrl.searchParams.get('error') === 'access_denied';
        throw new ProviderError(
          `the code exchange with ${config.issuer} failed`,
          denied ? 'denied' : 'provider',
          {
            cause,
          },
        );
      }
      const claims = tokens.claims();
      if (!claims) throw new ProviderError(`${config.issuer} sent no ID token`, 'provider');
      let info: Record<string, unknown> = claims;
      if (claimString(claims.email) === null && c.serverMetadata().userinfo_endpoint) {
        try {
          info = { ...claims, ...(await client.fetchUserInfo(c, tokens.access_token, claims.sub)) };
        } catch (cause) {
          throw new ProviderError(`the userinfo request to ${config.issuer} failed`, 'provider', { cause });
        }
      }
      const email = claimString(info.email);
      return {
        subject: claims.sub,
        email: email?.toLowerCase() ?? null,
        emailVerified: email !== null && isTrue(info.email_verified),
        name: claimString(info.name, 200),
      };
    },
  };
}
