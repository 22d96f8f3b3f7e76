/**
 * Installation keys: `HN-KKKK-SSSS-SSSS-SSSS-SSSC` (DESIGN.md "Installation keys").
 *
 * Twenty Crockford base32 symbols: a 4-symbol public key id, a 15-symbol secret (75 bits) and one
 * Crockford check symbol (mod 37) over the 19 symbols before it. Pure functions only: the agent, the
 * server, the dashboard and the tests share this one implementation.
 */

/** Crockford's base32 data alphabet (no I, L, O, U). */
export const CROCKFORD_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
/** Crockford's check alphabet: the 32 data symbols plus five extra symbols for values 32–36. */
export const CHECK_ALPHABET = `${CROCKFORD_ALPHABET}*~$=U`;

export const KEY_PREFIX = 'HN';
export const KEY_ID_LENGTH = 4;
export const KEY_SECRET_LENGTH = 15;
/** Symbols in a key body (id + secret + check), without the prefix and dashes. */
export const KEY_BODY_LENGTH = KEY_ID_LENGTH + KEY_SECRET_LENGTH + 1;

const DATA_VALUES: ReadonlyMap<string, number> = new Map(
  [...CROCKFORD_ALPHABET].map((symbol, value) => [symbol, value]),
);

export interface InstallationKey {
  /** Public key id (`KKKK`), used to look the key up. */
  keyId: string;
  /** The 15 secret symbols. Never stored by the server; only a hash of them. */
  secret: string;
  /** The canonical display form `HN-KKKK-SSSS-SSSS-SSSS-SSSC`. */
  text: string;
}

export type KeyParseFailure =
  | { ok: false; reason: 'empty'; message: string }
  | { ok: false; reason: 'length'; message: string; symbols: number }
  | { ok: false; reason: 'symbol'; message: string; position: number; symbol: string }
  | { ok: false; reason: 'check'; message: string };

export type KeyParseResult = ({ ok: true } & InstallationKey) | KeyParseFailure;

/** Crockford's check symbol for a string of data symbols: its base-32 value modulo 37. */
export function checkSymbol(symbols: string): string {
  let remainder = 0;
  for (const symbol of symbols) {
    const value = DATA_VALUES.get(symbol);
    if (value === undefined) throw new RangeError(`'${symbol}' is not a Crockford base32 symbol`);
    remainder = (remainder * 32 + value) % 37;
  }
  return CHECK_ALPHABET.charAt(remainder);
}

/** Build the display form from a key id and secret (both already valid symbols). */
export function formatInstallationKey(keyId: string, secret: string): string {
  const body = keyId + secret;
  const full = body + checkSymbol(body);
  const groups = full.match(/.{4}/g) ?? [];
  return [KEY_PREFIX, ...groups].join('-');
}

/**
 * Generate a new key from 19 random symbols. `randomBytes` is injected so the caller decides the
 * source (node:crypto on the server, crypto.getRandomValues in a browser, a seeded stream in tests).
 */
export function generateInstallationKey(randomBytes: (size: number) => Uint8Array): InstallationKey {
  const symbols = randomSymbols(KEY_ID_LENGTH + KEY_SECRET_LENGTH, randomBytes);
  const keyId = symbols.slice(0, KEY_ID_LENGTH);
  const secret = symbols.slice(KEY_ID_LENGTH);
  return { keyId, secret, text: formatInstallationKey(keyId, secret) };
}

/** Random Crockford symbols without modulo bias (each byte's low 5 bits are uniform). */
export function randomSymbols(count: number, randomBytes: (size: number) => Uint8Array): string {
  const bytes = randomBytes(count);
  if (bytes.length < count) throw new RangeError('randomBytes returned too few bytes');
  let out = '';
  for (let i = 0; i < count; i += 1) out += CROCKFORD_ALPHABET.charAt((bytes[i] ?? 0) & 31);
  return out;
}

/**
 * Normalise what a person typed: upper case, spaces and dashes dropped, I/L read as 1 and O as 0,
 * and an optional `HN` prefix removed.
 */
export function normalizeKeyInput(text: string): string {
  const upper = text.trim().toUpperCase();
  // "HN" followed by a separator is always the prefix; run together with the body it is the prefix
  // only when it makes the text too long, since a body may itself start with "HN".
  const explicitPrefix = /^HN[\s\-_]/.test(upper);
  const compact = (explicitPrefix ? upper.slice(KEY_PREFIX.length) : upper)
    .replace(/[\s\-_]+/g, '')
    .replace(/[IL]/g, '1')
    .replace(/O/g, '0');
  return !explicitPrefix && compact.length > KEY_BODY_LENGTH && compact.startsWith(KEY_PREFIX)
    ? compact.slice(KEY_PREFIX.length)
    : compact;
}

/** Parse and verify a typed key. Every failure says what is wrong in words a person can act on. */
export function parseInstallationKey(text: string): KeyParseResult {
  const body = normalizeKeyInput(text);
  if (body.length === 0) {
    return { ok: false, reason: 'empty', message: 'No installation key was entered.' };
  }
  if (body.length !== KEY_BODY_LENGTH) {
    return {
      ok: false,
      reason: 'length',
      symbols: body.length,
      message:
        `An installation key has ${KEY_BODY_LENGTH} characters after "HN-" (five groups of four); ` +
        `this one has ${body.length}. Check that no group is missing or doubled.`,
    };
  }
  for (let i = 0; i < KEY_BODY_LENGTH; i += 1) {
    const symbol = body.charAt(i);
    const alphabet = i === KEY_BODY_LENGTH - 1 ? CHECK_ALPHABET : CROCKFORD_ALPHABET;
    if (!alphabet.includes(symbol)) {
      return {
        ok: false,
        reason: 'symbol',
        position: i + 1,
        symbol,
        message: `Character ${i + 1} ("${symbol}") cannot appear in an installation key. Re-check the characters.`,
      };
    }
  }
  const data = body.slice(0, -1);
  if (checkSymbol(data) !== body.slice(-1)) {
    return {
      ok: false,
      reason: 'check',
      message:
        'This key contains a typo: one character is wrong or two are swapped. ' +
        'Re-check the characters against the key shown on the website.',
    };
  }
  const keyId = data.slice(0, KEY_ID_LENGTH);
  const secret = data.slice(KEY_ID_LENGTH);
  return { ok: true, keyId, secret, text: formatInstallationKey(keyId, secret) };
}

/** A key shown without its secret, safe for lists and logs: `HN-KKKK-****-…`. */
export function maskInstallationKey(keyId: string): string {
  return `${KEY_PREFIX}-${keyId}-****-****-****-****`;
}
