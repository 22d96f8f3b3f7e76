/**
 * The tokens in mailed links. A token is HMAC-SHA256 of the link's row id under a key derived from
 * the server's secret, so the database holds only the token's SHA-256 and the row id, and the mail
 * sender can write the same link again on a retry without the token ever being stored. Pure.
 */
import { createHmac } from 'node:crypto';
import { sha256Hex } from '../core/ids.js';
import type { EmailLinkPurpose } from './email-link-repository.js';

/** How long a link works. */
export const LINK_LIFETIME_MS: Record<EmailLinkPurpose, number> = {
  'verify-email': 72 * 3_600_000,
  'password-reset': 60 * 60_000,
};

/** The dashboard page each link opens. */
const PAGES: Record<EmailLinkPurpose, string> = {
  'verify-email': '/verify-email',
  'password-reset': '/reset-password',
};

/** 43 base64url characters (256 bits); anything else is not one of our tokens. */
export const LINK_TOKEN_PATTERN = '^[A-Za-z0-9_-]{43}$';

export interface EmailLinkTokens {
  token(purpose: EmailLinkPurpose, id: string): string;
  hash(token: string): string;
  url(purpose: EmailLinkPurpose, id: string): string;
}

export function createEmailLinkTokens(key: Buffer, publicUrl: string): EmailLinkTokens {
  const token = (purpose: EmailLinkPurpose, id: string) =>
    createHmac('sha256', key).update(`${purpose}:${id}`).digest('base64url');
  return {
    token,
    hash: (text) => sha256Hex(text),
    url: (purpose, id) => `${publicUrl}${PAGES[purpose]}?token=${token(purpose, id)}`,
  };
}
