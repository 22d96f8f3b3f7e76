import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  CHECK_ALPHABET,
  CROCKFORD_ALPHABET,
  checkSymbol,
  formatInstallationKey,
  generateInstallationKey,
  maskInstallationKey,
  normalizeKeyInput,
  parseInstallationKey,
} from '../../protocol/key.js';

/** A deterministic byte stream so that a failure names a reproducible key. */
function seededBytes(seed: number): (size: number) => Uint8Array {
  let state = seed >>> 0;
  return (size) => {
    const out = new Uint8Array(size);
    for (let i = 0; i < size; i += 1) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      out[i] = state >>> 24;
    }
    return out;
  };
}

function bodyOf(text: string): string {
  return text.replace(/^HN-/, '').replaceAll('-', '');
}

function withBody(body: string): string {
  return `HN-${body.match(/.{4}/g)!.join('-')}`;
}

describe('installation key format', () => {
  it('formats as HN- and five groups of four', () => {
    const key = generateInstallationKey(randomBytes);
    expect(key.text).toMatch(/^HN-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{3}[0-9A-Z*~$=]$/);
    expect(key.keyId).toHaveLength(4);
    expect(key.secret).toHaveLength(15);
    expect(key.text.slice(3, 7)).toBe(key.keyId);
  });

  it('computes Crockford check symbols (value mod 37)', () => {
    expect(checkSymbol('0')).toBe('0');
    expect(checkSymbol('Z')).toBe('Z'); // 31
    expect(checkSymbol('10')).toBe('*'); // 32
    expect(checkSymbol('14')).toBe('U'); // 36
    expect(checkSymbol('15')).toBe('0'); // 37
  });

  it('round-trips generated keys and accepts sloppy typing', () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      const key = generateInstallationKey(seededBytes(seed));
      const parsed = parseInstallationKey(key.text);
      expect(parsed).toMatchObject({ ok: true, keyId: key.keyId, secret: key.secret, text: key.text });
      const sloppy = ` ${key.text.toLowerCase().replaceAll('-', ' ').replaceAll('1', 'l').replaceAll('0', 'o')} `;
      expect(parseInstallationKey(sloppy)).toMatchObject({ ok: true, text: key.text });
      expect(parseInstallationKey(bodyOf(key.text))).toMatchObject({ ok: true, text: key.text });
    }
  });

  it('catches every single-symbol substitution over many generated keys', () => {
    let tried = 0;
    for (let seed = 1; seed <= 300; seed += 1) {
      const body = bodyOf(generateInstallationKey(seededBytes(seed)).text);
      for (let pos = 0; pos < body.length; pos += 1) {
        const alphabet = pos === body.length - 1 ? CHECK_ALPHABET : CROCKFORD_ALPHABET;
        for (const symbol of alphabet) {
          if (symbol === body[pos]) continue;
          const typo = body.slice(0, pos) + symbol + body.slice(pos + 1);
          const result = parseInstallationKey(withBody(typo));
          tried += 1;
          if (result.ok) throw new Error(`substitution not caught: ${body} -> ${typo}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(180_000);
  });

  it('catches every adjacent transposition over many generated keys', () => {
    let tried = 0;
    for (let seed = 1; seed <= 3000; seed += 1) {
      const body = bodyOf(generateInstallationKey(seededBytes(seed)).text);
      for (let pos = 0; pos + 1 < body.length; pos += 1) {
        if (body[pos] === body[pos + 1]) continue;
        const swapped = body.slice(0, pos) + body[pos + 1] + body[pos] + body.slice(pos + 2);
        tried += 1;
        if (parseInstallationKey(withBody(swapped)).ok) {
          throw new Error(`transposition not caught: ${body} -> ${swapped}`);
        }
      }
    }
    expect(tried).toBeGreaterThan(50_000);
  });

  it('explains what is wrong in words a person can act on', () => {
    const key = generateInstallationKey(seededBytes(7));
    expect(parseInstallationKey('')).toMatchObject({ ok: false, reason: 'empty' });
    expect(parseInstallationKey(key.text.slice(0, -2))).toMatchObject({
      ok: false,
      reason: 'length',
      symbols: 18,
    });
    const wrong = key.text.slice(0, 5) + (key.text[5] === 'X' ? 'Y' : 'X') + key.text.slice(6);
    const typo = parseInstallationKey(wrong);
    expect(typo).toMatchObject({ ok: false, reason: 'check' });
    expect(typo.ok ? '' : typo.message).toMatch(/typo/i);
    expect(parseInstallationKey('HN-ABCD-EFGH-JKMN-PQRS-TVW!')).toMatchObject({
      ok: false,
      reason: 'symbol',
      position: 20,
    });
  });

  it('normalises case, separators, I/L/O and the optional prefix', () => {
    expect(normalizeKeyInput('hn-abcd-efgh')).toBe('ABCDEFGH');
    expect(normalizeKeyInput('hnabcd')).toBe('HNABCD');
    expect(normalizeKeyInput('HN-0123-4567-89AB-CDEF-GHJK')).toBe('0123456789ABCDEFGHJK');
    expect(normalizeKeyInput('il-o')).toBe('110');
    // A body that itself starts with HN keeps it.
    const body = `HN${'0'.repeat(17)}`;
    const key = formatInstallationKey(body.slice(0, 4), body.slice(4));
    expect(parseInstallationKey(bodyOf(key))).toMatchObject({ ok: true, keyId: 'HN00' });
  });

  it('masks a key for lists', () => {
    expect(maskInstallationKey('ABCD')).toBe('HN-ABCD-****-****-****-****');
  });
});
