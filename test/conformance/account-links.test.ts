/**
 * What issue 17 added to accounts (mailed links, provider identities, credentials, the domain-event
 * outbox and its queue) and the password compare-and-set: the same answers from both engines.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Repositories } from '../../enroll-server/repositories.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, T0, owner } from './fixtures.js';

async function ownerWithToken(repos: Repositories, n: number): Promise<string> {
  await repos.owners.create(owner(n));
  await repos.tokens.create(
    { id: `tok_${n}`, role: 'owner', ownerId: `own_${n}`, label: null, createdAt: T0, createdBy: null },
    `hash-${n}`,
  );
  return `tok_${n}`;
}

describe.each(ENGINES)('account links, identities and events on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e;
  }

  it('email links: found by hash, used once and only before expiry, others voided, counted; verification once', async () => {
    const { repos } = await setup();
    await repos.owners.create(owner(1));
    const link = (id: string, createdAt: number) => ({
      id,
      ownerId: 'own_1',
      purpose: 'password-reset' as const,
      email: 'owner1@example.com',
      createdAt,
      expiresAt: createdAt + HOUR,
    });
    await repos.emailLinks.create(link('eml_1', T0), 'h1');
    await repos.emailLinks.create(link('eml_2', T0 + 10), 'h2');
    await repos.emailLinks.create(link('eml_3', T0 + 20), 'h3');
    await expect(repos.emailLinks.create(link('eml_4', T0 + 30), 'h1')).rejects.toThrow();
    expect(await repos.emailLinks.findByHash('h2')).toEqual({ ...link('eml_2', T0 + 10), usedAt: null });
    expect(await repos.emailLinks.findByHash('nope')).toBeUndefined();
    expect(await repos.emailLinks.countSince('own_1', 'password-reset', T0 + 10)).toBe(2);
    expect(await repos.emailLinks.countSince('own_1', 'verify-email', T0)).toBe(0);
    expect(await repos.emailLinks.use('eml_1', T0 + HOUR)).toBe(false); // expired
    const uses = await Promise.all([1, 2, 3].map(() => repos.emailLinks.use('eml_2', T0 + 50)));
    expect(uses.filter(Boolean)).toHaveLength(1);
    expect(await repos.emailLinks.voidOthers('own_1', 'password-reset', 'eml_2', T0 + 60)).toBe(2);
    expect(await repos.emailLinks.use('eml_3', T0 + 70)).toBe(false);
    expect((await repos.emailLinks.findByHash('h3'))?.usedAt).toBe(T0 + 60);
    // Owners created through the repository are unconfirmed until marked.
    expect(await repos.emailLinks.verifiedAt('own_1')).toBeNull();
    expect(await repos.emailLinks.markVerified('own_1', T0 + 80)).toBe(true);
    expect(await repos.emailLinks.markVerified('own_1', T0 + 90)).toBe(false);
    expect(await repos.emailLinks.verifiedAt('own_1')).toBe(T0 + 80);
    expect(await repos.emailLinks.verifiedAt('own_9')).toBeNull();
  });

  it('identities: one owner per (provider, subject), touched, listed oldest first', async () => {
    const { repos } = await setup();
    await repos.owners.create(owner(1));
    const identity = (provider: string, subject: string, createdAt: number) => ({
      provider,
      subject,
      ownerId: 'own_1',
      email: null,
      createdAt,
      lastUsedAt: createdAt,
    });
    await repos.identities.link(identity('oidc:corp', 'sub-1', T0 + 5));
    await repos.identities.link(identity('github', '42', T0 + 5));
    await repos.identities.link(identity('oidc:corp', 'sub-0', T0));
    await expect(repos.identities.link(identity('github', '42', T0 + 9))).rejects.toThrow();
    await repos.identities.touch('github', '42', T0 + HOUR);
    expect(await repos.identities.find('github', '42')).toEqual({
      ...identity('github', '42', T0 + 5),
      lastUsedAt: T0 + HOUR,
    });
    expect(await repos.identities.find('github', '43')).toBeUndefined();
    expect((await repos.identities.forOwner('own_1')).map((i) => [i.provider, i.subject])).toEqual([
      ['oidc:corp', 'sub-0'],
      ['github', '42'],
      ['oidc:corp', 'sub-1'],
    ]);
  });

  it('credentials and passwords: unusable until replaced; the hash changes only from the one read; sessions ended but one', async () => {
    const { repos } = await setup();
    const tokenId = await ownerWithToken(repos, 1);
    expect(await repos.credentials.forOwner('own_1')).toBeUndefined();
    await repos.credentials.createUnusable('own_1', 'random-hash', tokenId, T0);
    expect(await repos.credentials.forOwner('own_1')).toEqual({
      ownerId: 'own_1',
      tokenId,
      passwordUsable: false,
    });
    expect(await repos.credentials.replacePassword('own_1', 'scrypt$new', T0 + 1)).toBe(true);
    expect(await repos.credentials.replacePassword('own_9', 'scrypt$new', T0 + 1)).toBe(false);
    expect((await repos.credentials.forOwner('own_1'))?.passwordUsable).toBe(true);
    // Two rehashes racing from the same old hash: one wins.
    const swaps = await Promise.all([
      repos.sessions.replacePasswordHash('own_1', 'scrypt$new', 'scrypt$a', T0 + 2),
      repos.sessions.replacePasswordHash('own_1', 'scrypt$new', 'scrypt$b', T0 + 2),
    ]);
    expect(swaps.filter(Boolean)).toHaveLength(1);
    expect((await repos.sessions.passwordForEmail('owner1@example.com'))?.passwordHash).toBe(
      swaps[0] ? 'scrypt$a' : 'scrypt$b',
    );
    const record = { tokenId, csrfToken: 'c', method: 'oidc' as const, createdAt: T0, expiresAt: T0 + HOUR };
    for (const id of ['ses_1', 'ses_2', 'ses_3']) await repos.sessions.create({ ...record, id }, `s-${id}`);
    expect(await repos.credentials.endSessions(tokenId, T0 + 3, 'ses_2')).toBe(2);
    expect(await repos.sessions.findActive('s-ses_2', T0 + 4)).toMatchObject({ id: 'ses_2', method: 'oidc' });
    expect(await repos.sessions.findActive('s-ses_1', T0 + 4)).toBeUndefined();
    expect(await repos.credentials.endSessions(tokenId, T0 + 5, null)).toBe(1);
  });

  it('events: appended in order, each dispatched once, purged after dispatch', async () => {
    const { repos } = await setup();
    const first = await repos.events.append(T0, {
      type: 'node.approved',
      nodeId: 'node_1',
      ownerId: 'own_1',
      note: null,
    });
    const second = await repos.transaction(async (tx) =>
      tx.events.append(T0 + 1, { type: 'node.revoked', nodeId: 'node_1', ownerId: 'own_1', reason: 'sold' }),
    );
    await expect(
      repos.transaction(async (tx) => {
        await tx.events.append(T0 + 2, { type: 'node.revoked', nodeId: 'n', ownerId: 'o', reason: 'x' });
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(first).not.toBe(second);
    const pending = await repos.eventQueue.pending(10);
    expect(pending.map((p) => [p.id, p.at, p.event.type])).toEqual([
      [first, T0, 'node.approved'],
      [second, T0 + 1, 'node.revoked'],
    ]);
    expect(pending[1]?.event).toEqual({
      type: 'node.revoked',
      nodeId: 'node_1',
      ownerId: 'own_1',
      reason: 'sold',
    });
    expect((await repos.eventQueue.pending(1)).map((p) => p.id)).toEqual([first]);
    const marks = await Promise.all([1, 2].map(() => repos.eventQueue.markDispatched(first, T0 + 10)));
    expect(marks.filter(Boolean)).toHaveLength(1);
    expect((await repos.eventQueue.pending(10)).map((p) => p.id)).toEqual([second]);
    expect(await repos.eventQueue.purge(T0 + 10)).toBe(0);
    expect(await repos.eventQueue.purge(T0 + 11)).toBe(1);
  });
});
