/** Random identifiers and secrets: prefixed ids, API tokens and their hashes. */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { randomSymbols } from '../../protocol/key.js';

/** `node_` + 20 Crockford symbols (100 bits), lower-case: unguessable and easy to read aloud. */
export function newId(prefix: string): string {
  return `${prefix}_${randomSymbols(20, randomBytes).toLowerCase()}`;
}

export const TOKEN_PREFIX = 'hn_';

/** A new API token: 256 random bits, base64url, shown once and stored only as its hash. */
export function newApiToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Installation-key secrets are hashed with their key id and a per-key salt. */
export function hashKeySecret(salt: string, keyId: string, secret: string): string {
  return `${salt}$${createHash('sha256').update(`${salt}:${keyId}:${secret}`).digest('hex')}`;
}

export function verifyKeySecret(stored: string, keyId: string, secret: string): boolean {
  const [salt = ''] = stored.split('$');
  const expected = Buffer.from(stored);
  const actual = Buffer.from(hashKeySecret(salt, keyId, secret));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

export function newSalt(): string {
  return randomBytes(16).toString('base64url');
}
