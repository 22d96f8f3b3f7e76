/** Installation keys, nodes, hardware history and flags: the same answers from both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, T0, enrollmentFields, hardware, ids, key, owner, seedNode } from './fixtures.js';

describe.each(ENGINES)('enrollment and node repositories on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('keys: found by public id, live while usable, listed newest first per owner, revoked once', async () => {
    const repos = await setup();
    await repos.owners.create(owner(1));
    await repos.owners.create(owner(2));
    await repos.keys.create(key(1, 'own_1', { keyId: 'AAAA', createdAt: T0 }));
    await repos.keys.create(key(2, 'own_1', { keyId: 'AAAA', createdAt: T0 + 1, revokedAt: null }));
    await repos.keys.create(key(3, 'own_2', { keyId: 'BBBB', createdAt: T0 + 2, expiresAt: T0 + HOUR }));
    expect(ids(await repos.keys.findByKeyId('AAAA')).sort()).toEqual(['key_1', 'key_2']);
    expect(await repos.keys.isKeyIdLive('BBBB', T0)).toBe(true);
    expect(await repos.keys.isKeyIdLive('BBBB', T0 + HOUR)).toBe(false);
    expect(await repos.keys.isKeyIdLive('CCCC', T0)).toBe(false);
    expect(ids(await repos.keys.list(null, 10, 0))).toEqual(['key_3', 'key_2', 'key_1']);
    expect(ids(await repos.keys.list('own_1', 1, 1))).toEqual(['key_1']);
    expect(await repos.keys.get('key_3')).toEqual(
      key(3, 'own_2', { keyId: 'BBBB', createdAt: T0 + 2, expiresAt: T0 + HOUR }),
    );
    expect(await repos.keys.revoke('key_1', T0 + 5)).toBe(true);
    expect(await repos.keys.revoke('key_1', T0 + 6)).toBe(false);
    expect(await repos.keys.isKeyIdLive('AAAA', T0)).toBe(true);
    await repos.keys.revoke('key_2', T0 + 5);
    expect(await repos.keys.isKeyIdLive('AAAA', T0)).toBe(false);
  });

  it('keys: twelve enrollments racing for a three-use key take exactly three uses', async () => {
    const repos = await setup();
    await repos.owners.create(owner(1));
    await repos.keys.create(key(1, 'own_1', { maxUses: 3 }));
    const taken = await Promise.all(
      Array.from({ length: 12 }, () =>
        repos.transaction(async (tx) => {
          await tx.keys.get('key_1');
          return tx.keys.consumeUse('key_1', T0 + 1);
        }),
      ),
    );
    expect(taken.filter(Boolean)).toHaveLength(3);
    expect((await repos.keys.get('key_1'))?.uses).toBe(3);
    expect(await repos.keys.consumeUse('key_1', T0 + 2)).toBe(false);
    await repos.keys.create(key(2, 'own_1', { maxUses: 5, expiresAt: T0 + 10 }));
    expect(await repos.keys.consumeUse('key_2', T0 + 10)).toBe(false);
  });

  it('nodes: stored as given, with a first hardware snapshot; found by thumbprint and fingerprint', async () => {
    const repos = await setup();
    await seedNode(repos, 1, { at: T0 });
    await seedNode(repos, 2, { at: T0 + 1, ownerId: 'own_1', fingerprint: 'fp-1' });
    const node = await repos.nodes.get('node_1');
    const fields = enrollmentFields(1);
    expect(node).toEqual({
      id: 'node_1',
      ownerId: 'own_1',
      fingerprint: 'fp-1',
      ...fields,
      createdAt: T0,
      updatedAt: T0,
      enrolledAt: T0,
      approvedAt: null,
      approvedBy: null,
      lastSeenAt: null,
    });
    expect((await repos.nodes.findByThumbprint('thumb-2'))?.id).toBe('node_2');
    expect(await repos.nodes.findByThumbprint('thumb-9')).toBeUndefined();
    expect(ids(await repos.nodes.findByFingerprint('fp-1'))).toEqual(['node_2', 'node_1']);
    expect(await repos.payouts.hardwareHistory('node_1')).toEqual([{ at: T0, hardware: fields.hardware }]);
    await expect(seedNode(repos, 3, { fields: { publicKeyThumbprint: 'thumb-1' } })).rejects.toThrow();
  });

  it('nodes: a re-install and a changed snapshot add history; the same snapshot again does not', async () => {
    const repos = await setup();
    await seedNode(repos, 1, { at: T0 });
    const two = hardware(2);
    await repos.nodes.reenroll(
      'node_1',
      enrollmentFields(1, { publicKeyThumbprint: 'thumb-new', hardware: two }),
      T0 + HOUR,
    );
    const after = await repos.nodes.get('node_1');
    expect(after).toMatchObject({ publicKeyThumbprint: 'thumb-new', enrolledAt: T0 + HOUR, createdAt: T0 });
    expect(after?.hardware.gpus).toHaveLength(2);
    const three = { hardware: hardware(3), attributes: [], labels: { a: 'b' } };
    await repos.nodes.updateHardware('node_1', three, T0 + 2 * HOUR, 'append');
    await repos.nodes.updateHardware('node_1', three, T0 + 3 * HOUR, 'none');
    expect(await repos.nodes.latestHardware('node_1')).toEqual({ at: T0 + 2 * HOUR, hardware: hardware(3) });
    expect(
      (await repos.payouts.hardwareHistory('node_1')).map((h) => [h.at, h.hardware.gpus.length]),
    ).toEqual([
      [T0, 1],
      [T0 + HOUR, 2],
      [T0 + 2 * HOUR, 3],
    ]);
    expect(await repos.nodes.get('node_1')).toMatchObject({
      labels: { a: 'b' },
      attributes: [],
      updatedAt: T0 + 3 * HOUR,
    });
    // 'amend-latest' rewrites the newest row in place (same time), and appends the first one.
    const amended = { ...three, hardware: { ...hardware(3), memory: { totalBytes: 1024 } } };
    await repos.nodes.updateHardware('node_1', amended, T0 + 4 * HOUR, 'amend-latest');
    expect(await repos.nodes.latestHardware('node_1')).toEqual({
      at: T0 + 2 * HOUR,
      hardware: amended.hardware,
    });
    expect(await repos.payouts.hardwareHistory('node_1')).toHaveLength(3);
    await seedNode(repos, 2);
    expect((await repos.nodes.latestHardware('node_2'))?.at).toBeDefined();
    expect(await repos.nodes.latestHardware('node_9')).toBeUndefined();
  });

  it('nodes: a status moves only from the state it is in (compare-and-set), even when ops race', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    const results = await Promise.all(
      ['approved', 'rejected', 'approved'].map((to, i) =>
        repos.transaction(async (tx) => {
          const current = await tx.nodes.get('node_1');
          if (current?.status !== 'pending') return false;
          return tx.nodes.transition(
            'node_1',
            'pending',
            to === 'approved' ? 'approved' : 'rejected',
            `r${i}`,
            `tok_${i}`,
            T0 + i + 1,
          );
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const node = await repos.nodes.get('node_1');
    expect(node?.status).not.toBe('pending');
    if (node?.status === 'approved') expect(node.approvedAt).not.toBeNull();
    expect(await repos.nodes.transition('node_1', 'pending', 'approved', null, 'tok_x', T0 + 9)).toBe(false);
    await seedNode(repos, 2);
    expect(await repos.nodes.transition('node_2', 'pending', 'approved', 'ok', 'tok_ops', T0 + 5)).toBe(true);
    expect(await repos.nodes.get('node_2')).toMatchObject({
      status: 'approved',
      statusReason: 'ok',
      approvedAt: T0 + 5,
      approvedBy: 'tok_ops',
      updatedAt: T0 + 5,
    });
    expect(await repos.nodes.transition('node_2', 'approved', 'revoked', 'gone', 'tok_ops', T0 + 6)).toBe(
      true,
    );
    expect(await repos.nodes.get('node_2')).toMatchObject({ status: 'revoked', approvedAt: T0 + 5 });
    expect(await repos.nodes.countByStatus()).toEqual({ [node!.status]: 1, revoked: 1 });
  });

  it('nodes: listed newest first with owner, status, text, id filters and paging, with the total', async () => {
    const repos = await setup();
    await repos.owners.create({ ...owner(1), email: 'ana@example.com', name: 'Ana Lima' });
    await repos.owners.create({ ...owner(2), email: 'bruno@example.com', name: 'Bruno_Costa' });
    for (let i = 1; i <= 5; i += 1)
      await seedNode(repos, i, {
        ownerId: i % 2 ? 'own_1' : 'own_2',
        at: T0 + i,
        fields:
          i === 3
            ? { attributes: [{ key: 'capabilities/gpu/vendor/nvidia/model/h100', value: 'true' }] }
            : {},
      });
    await repos.nodes.transition('node_2', 'pending', 'approved', null, 'tok', T0 + 9);
    const list = (f: Partial<Parameters<typeof repos.nodes.list>[0]>) =>
      repos.nodes.list({ limit: 10, offset: 0, ...f }).then((r) => [ids(r.nodes), r.total]);
    expect(await list({})).toEqual([['node_5', 'node_4', 'node_3', 'node_2', 'node_1'], 5]);
    expect(await list({ ownerId: 'own_2' })).toEqual([['node_4', 'node_2'], 2]);
    expect(await list({ status: 'approved' })).toEqual([['node_2'], 1]);
    expect(await list({ q: 'ANA' })).toEqual([['node_5', 'node_3', 'node_1'], 3]);
    expect(await list({ q: 'H100' })).toEqual([['node_3'], 1]);
    expect(await list({ q: 'node_4' })).toEqual([['node_4'], 1]);
    // _ and % are literal characters in a search, never wildcards.
    expect(await list({ q: 'o_C' })).toEqual([['node_4', 'node_2'], 2]);
    expect(await list({ q: 'no%' })).toEqual([[], 0]);
    expect(await list({ ids: ['node_1', 'node_4', 'node_9'] })).toEqual([['node_4', 'node_1'], 2]);
    expect(await list({ ids: [] })).toEqual([[], 0]);
    expect(await list({ excludeIds: ['node_5', 'node_1'], ownerId: 'own_1' })).toEqual([['node_3'], 1]);
    expect(await list({ limit: 2, offset: 1 })).toEqual([['node_4', 'node_3'], 5]);
  });

  it('flags: kept per node in the order raised, with their details', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await repos.flags.add('node_1', 'duplicate-session', 'two sessions', { replaced: 'ses_1' }, T0 + 1);
    await repos.flags.add('node_1', 'join-failed', 'k3s failed', null, T0 + 2);
    await repos.flags.add(null, 'fleet', 'not about one node', {}, T0 + 3);
    const { flags, total } = await repos.flags.forNode('node_1', 50, 0);
    expect(total).toBe(2);
    // Most recently seen first.
    expect(flags.map((f) => [f.kind, f.message, f.details, f.createdAt, f.count, f.lastSeenAt])).toEqual([
      ['join-failed', 'k3s failed', null, T0 + 2, 1, T0 + 2],
      ['duplicate-session', 'two sessions', { replaced: 'ses_1' }, T0 + 1, 1, T0 + 1],
    ]);
    expect(flags[0]!.id).toBeGreaterThan(flags[1]!.id);
  });

  it('flags: a repeat of an open flag raises its count and last-seen time, one row; pages with a total', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await repos.flags.add('node_1', 'duplicate-session', 'first', { n: 1 }, T0 + 1);
    await repos.flags.add('node_1', 'join-failed', 'k3s failed', null, T0 + 2);
    await Promise.all(
      [3, 4, 5].map((n) => repos.flags.add('node_1', 'duplicate-session', `repeat ${n}`, { n }, T0 + n)),
    );
    const page = await repos.flags.forNode('node_1', 1, 0);
    expect(page.total).toBe(2);
    expect(page.flags).toHaveLength(1);
    expect(page.flags[0]).toMatchObject({
      kind: 'duplicate-session',
      count: 4,
      createdAt: T0 + 1,
      resolvedAt: null,
    });
    expect(page.flags[0]?.lastSeenAt).toBeGreaterThanOrEqual(T0 + 3);
    expect((await repos.flags.forNode('node_1', 1, 1)).flags.map((f) => f.kind)).toEqual(['join-failed']);
    expect(await repos.flags.forNode('node_2', 10, 0)).toEqual({ flags: [], total: 0 });
  });
});
