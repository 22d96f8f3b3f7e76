/**
 * One-click unsubscribe links: the address and the category, signed with HMAC-SHA256 under a key
 * from the server's secret. They do not expire (RFC 8058 asks that they keep working) and are good
 * only for turning mails off. Pure.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { type MailCategory, isNotificationKind } from './preferences.js';

export const UNSUBSCRIBE_TOKEN_PATTERN = '^[A-Za-z0-9_-]{4,700}\\.[A-Za-z0-9_-]{43}$';

const mac = (key: Buffer, payload: string) => createHmac('sha256', key).update(payload).digest();

export function signUnsubscribe(key: Buffer, address: string, category: MailCategory): string {
  const payload = Buffer.from(JSON.stringify([address.toLowerCase(), category])).toString('base64url');
  return `${payload}.${mac(key, payload).toString('base64url')}`;
}

export function verifyUnsubscribe(
  key: Buffer,
  token: string,
): { address: string; category: MailCategory } | undefined {
  const [payload, signature] = token.split('.');
  if (!payload || !signature) return undefined;
  // Compare the text, not the decoded bytes: base64url decoding ignores the last symbol's spare
  // bits, so four spellings of one signature would otherwise all pass (a link is spelled one way).
  const expected = Buffer.from(mac(key, payload).toString('base64url'));
  const actual = Buffer.from(signature);
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || typeof value[0] !== 'string' || typeof value[1] !== 'string') return undefined;
  const category = value[1];
  if (category !== 'account' && category !== 'ops' && !isNotificationKind(category)) return undefined;
  return { address: value[0], category };
}
