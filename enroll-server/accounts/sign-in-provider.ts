/**
 * What a sign-in provider (an OpenID Connect issuer, or GitHub's OAuth flow) does for us: send the
 * person to its login page, and turn the answer it sends back into who they are.
 */

/** Who the provider says signed in. `emailVerified`: the provider vouches that the address is theirs. */
export interface ExternalProfile {
  subject: string;
  email: string | null;
  emailVerified: boolean;
  name: string | null;
}

/** What the callback must check, kept sealed in a cookie between start and callback. */
export interface LoginCheck {
  state: string;
  /** OpenID Connect only. */
  nonce: string | null;
  /** PKCE (S256). */
  verifier: string;
}

export interface SignInProvider {
  id: string;
  name: string;
  /** The provider's authorization URL and what the callback must check. */
  start(redirectUri: string): Promise<{ url: string; check: LoginCheck }>;
  /** Exchanges the code (state, PKCE and nonce checked) and reads the profile. */
  finish(callbackUrl: URL, redirectUri: string, check: LoginCheck): Promise<ExternalProfile>;
}

/** The provider's answer could not be used (its message says why; the person sees a plain one). */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly reason: 'state' | 'provider' | 'denied',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ProviderError';
  }
}
