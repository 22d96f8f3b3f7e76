/**
 * The pure rules of notifications: where webhooks may point, what each webhook may see, one-click
 * unsubscribe tokens, the retry schedule, choices over defaults, and the sealed boxes and derived
 * keys of the server's secret.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveKey, seal, unseal } from '../../enroll-server/core/server-secret.js';
import {
  DEFAULT_PREFERENCES,
  unsubscribed,
  withDefaults,
} from '../../enroll-server/notifications/preferences.js';
import { retryDelay } from '../../enroll-server/notifications/retry-schedule.js';
import { signUnsubscribe, verifyUnsubscribe } from '../../enroll-server/notifications/unsubscribe-token.js';
import {
  checkWebhookUrl,
  isBlockedAddress,
} from '../../enroll-server/notifications/webhook-address-policy.js';
import { webhookBody, webhookData } from '../../enroll-server/notifications/webhook-payload.js';

describe('webhook address policy', () => {
  it.each([
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.5.4',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc12:3456::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:10.0.0.1',
    '64:ff9b::a00:1',
    'not-an-address',
  ])('refuses %s', (address) => {
    expect(isBlockedAddress(address)).toBe(true);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(isBlockedAddress(address)).toBe(false);
    },
  );

  it('checks the shape of a URL and its literal address, and lets the operator allow private ones', () => {
    expect(checkWebhookUrl('https://hooks.example.com/x', false)).toMatchObject({
      ok: true,
      literalAddress: null,
    });
    expect(checkWebhookUrl('http://[fe80::1]/x', false)).toMatchObject({ ok: false });
    expect(checkWebhookUrl('http://192.168.1.2:8080/x', true)).toMatchObject({
      ok: true,
      literalAddress: '192.168.1.2',
    });
    expect(checkWebhookUrl('javascript:alert(1)', true)).toMatchObject({ ok: false });
    expect(checkWebhookUrl(`https://example.com/${'a'.repeat(2048)}`, true)).toMatchObject({ ok: false });
    expect(checkWebhookUrl('http://metadata.google.internal/', false)).toMatchObject({ ok: false });
  });
});

describe('webhook payloads', () => {
  const approved = { type: 'node.approved' as const, nodeId: 'node_a', ownerId: 'own_a', note: null };
  const locked = {
    type: 'statement.locked' as const,
    periodId: 'per_1',
    start: Date.parse('2026-11-16T00:00:00Z'),
    end: Date.parse('2026-11-23T00:00:00Z'),
    hash: 'abc',
    totalUusd: '3000000',
    owners: [
      { ownerId: 'own_a', totalUusd: '1000000', nodeIds: ['node_a'] },
      { ownerId: 'own_b', totalUusd: '2000000', nodeIds: ['node_b'] },
    ],
  };

  it("gives staff every machine and an owner's webhook only that owner's", () => {
    expect(webhookData(approved, null)).toEqual({ nodeId: 'node_a', ownerId: 'own_a', note: null });
    expect(webhookData(approved, 'own_a')).toEqual({ nodeId: 'node_a', ownerId: 'own_a', note: null });
    expect(webhookData(approved, 'own_b')).toBeUndefined();
  });

  it("gives an owner only their part of a locked statement, and staff the totals without other owners' parts", () => {
    expect(webhookData(locked, 'own_b')).toEqual({
      periodId: 'per_1',
      start: '2026-11-16T00:00:00.000Z',
      end: '2026-11-23T00:00:00.000Z',
      hash: 'abc',
      ownerId: 'own_b',
      totalUusd: '2000000',
      nodeIds: ['node_b'],
    });
    expect(webhookData(locked, null)).toMatchObject({ totalUusd: '3000000', owners: 2 });
    expect(webhookData(locked, 'own_c')).toBeUndefined();
  });

  it('writes { id, event, at, data } and offline times as ISO 8601', () => {
    const offline = {
      type: 'node.offline' as const,
      nodeId: 'node_a',
      ownerId: 'own_a',
      since: Date.parse('2026-12-01T14:05:00Z'),
    };
    const data = webhookData(offline, null) ?? {};
    expect(JSON.parse(webhookBody('evt_1', offline, Date.parse('2026-12-01T14:40:00Z'), data))).toEqual({
      id: 'evt_1',
      event: 'node.offline',
      at: '2026-12-01T14:40:00.000Z',
      data: { nodeId: 'node_a', ownerId: 'own_a', since: '2026-12-01T14:05:00.000Z' },
    });
  });
});

describe('one-click unsubscribe tokens', () => {
  const key = randomBytes(32);

  it('carry the address and category, signed, and refuse any change or another key', () => {
    const token = signUnsubscribe(key, 'Ada@Example.com', 'nodeOffline');
    expect(verifyUnsubscribe(key, token)).toEqual({ address: 'ada@example.com', category: 'nodeOffline' });
    expect(verifyUnsubscribe(randomBytes(32), token)).toBeUndefined();
    const [payload, mac] = token.split('.');
    const other = Buffer.from(JSON.stringify(['eve@example.com', 'nodeOffline'])).toString('base64url');
    expect(verifyUnsubscribe(key, `${other}.${mac}`)).toBeUndefined();
    expect(verifyUnsubscribe(key, `${payload}.`)).toBeUndefined();
    expect(verifyUnsubscribe(key, 'garbage')).toBeUndefined();
  });

  it('refuse every other spelling of the signature, even one that decodes to the same bytes', () => {
    // The 43rd symbol carries 4 bits of the MAC and 2 spare ones: 'A'..'D' decode alike (CI's forged
    // link, its last symbol 'A' turned to 'B', was accepted).
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < 40; i++) {
      const token = signUnsubscribe(key, `user${i}@example.com`, 'account');
      for (const symbol of alphabet) {
        const variant = token.slice(0, -1) + symbol;
        if (variant !== token) expect(verifyUnsubscribe(key, variant)).toBeUndefined();
      }
    }
  });
});

describe('retry schedule', () => {
  const policy = { delaysMs: [1000, 10_000, 60_000], maxAttempts: 5 };

  it('follows the delays (the last repeats) with jitter between half and all of each, and gives up', () => {
    expect(retryDelay(policy, 1, () => 0)).toBe(500);
    expect(retryDelay(policy, 1, () => 1)).toBe(1000);
    expect(retryDelay(policy, 2, () => 0.5)).toBe(7500);
    expect(retryDelay(policy, 4, () => 1)).toBe(60_000);
    expect(retryDelay(policy, 5, () => 1)).toBeNull();
  });
});

describe('notification choices', () => {
  it('start from the defaults, keep what was stored and switch on a kind added later', () => {
    expect(withDefaults(undefined)).toEqual(DEFAULT_PREFERENCES);
    const stored = withDefaults({ choices: { nodeApproved: false, gone: true }, offlineMinutes: 45 });
    expect(stored.choices).toMatchObject({ nodeApproved: false, statementLocked: true });
    expect(stored.choices).not.toHaveProperty('gone');
    expect(stored.offlineMinutes).toBe(45);
  });

  it('turn off one kind from its mail, or every kind from an account mail', () => {
    expect(unsubscribed(DEFAULT_PREFERENCES, 'nodeOffline').choices).toMatchObject({
      nodeOffline: false,
      nodeApproved: true,
    });
    expect(Object.values(unsubscribed(DEFAULT_PREFERENCES, 'account').choices)).toEqual(Array(6).fill(false));
  });
});

describe("the server's secret", () => {
  it('derives a different key per purpose and seals boxes bound to their context', () => {
    const secret = randomBytes(32);
    expect(deriveKey(secret, 'unsubscribe').equals(deriveKey(secret, 'email-links'))).toBe(false);
    expect(deriveKey(secret, 'unsubscribe').equals(deriveKey(secret, 'unsubscribe'))).toBe(true);
    const key = deriveKey(secret, 'webhook-secrets');
    const box = seal(key, 'whsec_top-secret', 'whk_1');
    expect(box).not.toContain('top-secret');
    expect(unseal(key, box, 'whk_1')).toBe('whsec_top-secret');
    expect(unseal(key, box, 'whk_2')).toBeUndefined();
    expect(unseal(deriveKey(secret, 'unsubscribe'), box, 'whk_1')).toBeUndefined();
    expect(
      unseal(
        key,
        box.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')),
        'whk_1',
      ),
    ).toBeUndefined();
  });
});
