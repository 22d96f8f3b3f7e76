/**
 * What a provider sign-in must check at its callback (state, nonce, PKCE verifier), sealed
 * (AES-256-GCM under a key from the server's secret) into a short-lived cookie that only this
 * browser holds: a callback opened in another browser, or after ten minutes, or for another
 * provider, is refused. Pure apart from the randomness of the seal.
 */
import { seal, unseal } from '../core/server-secret.js';
import type { LoginCheck } from './sign-in-provider.js';

export const SIGN_IN_COOKIE = 'hn_signin';
export const SIGN_IN_LIFETIME_MS = 10 * 60_000;

interface Sealed {
  provider: string;
  check: LoginCheck;
  expiresAt: number;
}

export function sealSignIn(key: Buffer, provider: string, check: LoginCheck, now: number): string {
  const value: Sealed = { provider, check, expiresAt: now + SIGN_IN_LIFETIME_MS };
  return seal(key, JSON.stringify(value), 'sign-in');
}

/** The check for this provider's callback, or undefined when the cookie is missing, altered, expired or for another provider. */
export function openSignIn(
  key: Buffer,
  cookie: string | undefined,
  provider: string,
  now: number,
): LoginCheck | undefined {
  if (!cookie || cookie.length > 4096) return undefined;
  const text = unseal(key, cookie, 'sign-in');
  if (text === undefined) return undefined;
  const value = JSON.parse(text) as Sealed;
  if (value.provider !== provider || value.expiresAt <= now) return undefined;
  return value.check;
}
