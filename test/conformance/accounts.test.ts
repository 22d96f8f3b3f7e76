/** Owners, API tokens, dashboard sessions and passwords: the same answers from both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, T0, ids, owner } from './fixtures.js';

describe.each(ENGINES)('accounts repositories on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('owners: found by id and by email in any ASCII letter case; one account per email', async () => {
    const repos = await setup();
    await repos.owners.create({ ...owner(1), email: 'Ana.Lima@Example.com', name: 'Ana Lima' });
    expect(await repos.owners.get('own_1')).toEqual({
      id: 'own_1',
      email: 'Ana.Lima@Example.com',
      name: 'Ana Lima',
      createdAt: T0,
    });
    expect((await repos.owners.getByEmail('ana.lima@example.COM'))?.id).toBe('own_1');
    expect(await repos.owners.getByEmail('ana.lima@example.org')).toBeUndefined();
    expect(await repos.owners.get('own_2')).toBeUndefined();
    await expect(repos.owners.create({ ...owner(2), email: 'ANA.LIMA@example.com' })).rejects.toThrow();
  });

  it('owners: listed oldest first (then by id), searched by a case-insensitive part of email or name, paged', async () => {
    const repos = await setup();
    await repos.owners.create({ ...owner('b'), name: 'Bruno Costa', createdAt: T0 + 2 });
    await repos.owners.create({ ...owner('a'), name: 'Alice Moreau', createdAt: T0 + 2 });
    await repos.owners.create({ ...owner('z'), name: 'Zoë 100%_done', createdAt: T0 + 1 });
    expect(ids(await repos.owners.list('', 10, 0))).toEqual(['own_z', 'own_a', 'own_b']);
    expect(ids(await repos.owners.list('COSTA', 10, 0))).toEqual(['own_b']);
    expect(ids(await repos.owners.list('ownerA@', 10, 0))).toEqual(['own_a']);
    // Search text is literal: % and _ are no wildcards.
    expect(ids(await repos.owners.list('100%_', 10, 0))).toEqual(['own_z']);
    expect(ids(await repos.owners.list('%', 10, 0))).toEqual(['own_z']);
    expect(ids(await repos.owners.list('', 2, 1))).toEqual(['own_a', 'own_b']);
  });

  it('tokens: found only by the hash of an unrevoked token, revoked once, listed oldest first, counted', async () => {
    const repos = await setup();
    await repos.owners.create(owner(1));
    const admin = await repos.tokens.create(
      { id: 'tok_b', role: 'admin', ownerId: null, label: 'first', createdAt: T0, createdBy: null },
      'hash-admin',
    );
    expect(admin).toEqual({
      id: 'tok_b',
      role: 'admin',
      ownerId: null,
      label: 'first',
      createdAt: T0,
      createdBy: null,
      revokedAt: null,
    });
    await repos.tokens.create(
      { id: 'tok_a', role: 'owner', ownerId: 'own_1', label: null, createdAt: T0, createdBy: 'tok_b' },
      'hash-owner',
    );
    expect((await repos.tokens.findActiveByHash('hash-owner'))?.ownerId).toBe('own_1');
    expect(await repos.tokens.findActiveByHash('hash-nobody')).toBeUndefined();
    expect(ids(await repos.tokens.list())).toEqual(['tok_a', 'tok_b']);
    expect(await repos.tokens.count()).toBe(2);
    expect(await repos.tokens.revoke('tok_a', T0 + 5)).toBe(true);
    expect(await repos.tokens.revoke('tok_a', T0 + 9)).toBe(false);
    expect(await repos.tokens.findActiveByHash('hash-owner')).toBeUndefined();
    expect((await repos.tokens.get('tok_a'))?.revokedAt).toBe(T0 + 5);
  });

  it('tokens: an owner token needs an owner, other roles must not have one, and hashes are unique', async () => {
    const repos = await setup();
    await repos.owners.create(owner(1));
    const base = { label: null, createdAt: T0, createdBy: null };
    await expect(
      repos.tokens.create({ ...base, id: 't1', role: 'owner', ownerId: null }, 'h1'),
    ).rejects.toThrow();
    await expect(
      repos.tokens.create({ ...base, id: 't2', role: 'ops', ownerId: 'own_1' }, 'h2'),
    ).rejects.toThrow();
    await repos.tokens.create({ ...base, id: 't3', role: 'ops', ownerId: null }, 'h3');
    await expect(
      repos.tokens.create({ ...base, id: 't4', role: 'reviewer', ownerId: null }, 'h3'),
    ).rejects.toThrow();
    expect(await repos.tokens.count()).toBe(1);
  });

  it('sessions: live until they end or expire, touched, purged; passwords found by email in any case', async () => {
    const repos = await setup();
    await repos.owners.create(owner(1));
    await repos.tokens.create(
      { id: 'tok_1', role: 'owner', ownerId: 'own_1', label: null, createdAt: T0, createdBy: null },
      'hash-1',
    );
    const record = { tokenId: 'tok_1', csrfToken: 'csrf', method: 'token' as const, createdAt: T0 };
    await repos.sessions.create({ ...record, id: 'ses_1', expiresAt: T0 + HOUR }, 'secret-1');
    await repos.sessions.create({ ...record, id: 'ses_2', expiresAt: T0 + 2 * HOUR }, 'secret-2');
    expect(await repos.sessions.findActive('secret-1', T0 + 1)).toEqual({
      ...record,
      id: 'ses_1',
      lastUsedAt: T0,
      expiresAt: T0 + HOUR,
      endedAt: null,
    });
    expect(await repos.sessions.findActive('secret-1', T0 + HOUR)).toBeUndefined();
    await repos.sessions.touch('ses_1', T0 + 10, T0 + 3 * HOUR);
    expect(await repos.sessions.findActive('secret-1', T0 + HOUR)).toMatchObject({
      lastUsedAt: T0 + 10,
      expiresAt: T0 + 3 * HOUR,
    });
    expect(await repos.sessions.end('ses_2', T0 + 20)).toBe(true);
    expect(await repos.sessions.end('ses_2', T0 + 30)).toBe(false);
    expect(await repos.sessions.findActive('secret-2', T0 + 21)).toBeUndefined();
    // ses_2 ended at T0+20; ses_1 expires at T0+3h.
    expect(await repos.sessions.purge(T0 + 21)).toBe(1);
    expect(await repos.sessions.purge(T0 + 4 * HOUR)).toBe(1);
    await repos.sessions.setPassword('own_1', 'scrypt$hash', 'tok_1', T0);
    expect(await repos.sessions.passwordForEmail('OWNER1@EXAMPLE.COM')).toEqual({
      ownerId: 'own_1',
      passwordHash: 'scrypt$hash',
      tokenId: 'tok_1',
    });
    expect(await repos.sessions.passwordForEmail('nobody@example.com')).toBeUndefined();
  });
});
