/** The notification repositories of issue 17 (mail outbox, choices, webhooks, fleet watch) on both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import type { NewMail } from '../../enroll-server/notifications/mail-outbox-repository.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, MINUTE, T0, seedNode } from './fixtures.js';

const mail = (n: number, createdAt: number, overrides: Partial<NewMail> = {}): NewMail => ({
  id: `mail_${n}`,
  eventId: `evt_${n}`,
  ownerId: null,
  to: `ops${n}@example.com`,
  template: 'node-pending',
  params: {
    event: { type: 'node.approved', nodeId: 'node_1', ownerId: 'own_1', note: null },
    name: '',
    email: `ops${n}@example.com`,
  },
  category: 'ops',
  createdAt,
  ...overrides,
});

describe.each(ENGINES)('notification repositories on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e;
  }

  it('mail outbox: queued once per (event, address, template), claimed by one worker, sent, retried, failed', async () => {
    const { repos } = await setup();
    expect(await repos.mailOutbox.enqueue(mail(1, T0 + 2))).toBe(true);
    expect(await repos.mailOutbox.enqueue(mail(2, T0 + 1))).toBe(true);
    expect(await repos.mailOutbox.enqueue(mail(3, T0 + 3))).toBe(true);
    expect(await repos.mailOutbox.enqueue({ ...mail(1, T0 + 2), id: 'mail_again' })).toBe(false);
    const claimed = await repos.mailOutbox.claim(T0 + 10, MINUTE, 'w1', 2);
    expect(claimed.map((m) => [m.id, m.attempts])).toEqual([
      ['mail_2', 1],
      ['mail_1', 1],
    ]);
    expect(claimed[0]).toMatchObject({ to: 'ops2@example.com', params: mail(2, 0).params, category: 'ops' });
    // Leased: another worker gets only what is left, until the lease runs out.
    expect((await repos.mailOutbox.claim(T0 + 20, MINUTE, 'w2', 10)).map((m) => m.id)).toEqual(['mail_3']);
    expect(await repos.mailOutbox.markSent('mail_2', 'w2', T0 + 30)).toBe(false);
    expect(await repos.mailOutbox.markSent('mail_2', 'w1', T0 + 30)).toBe(true);
    await repos.mailOutbox.retryLater('mail_1', 'w1', T0 + HOUR, 'x'.repeat(2000));
    await repos.mailOutbox.markFailed('mail_3', 'w2', 'refused');
    expect(await repos.mailOutbox.claim(T0 + 2 * MINUTE, MINUTE, 'w3', 10)).toEqual([]);
    expect(
      (await repos.mailOutbox.claim(T0 + HOUR, MINUTE, 'w3', 10)).map((m) => [m.id, m.attempts]),
    ).toEqual([['mail_1', 2]]);
    expect(await repos.mailOutbox.counts()).toEqual({ queued: 1, sent: 1, failed: 1 });
    expect(await repos.mailOutbox.purge(T0 + 3)).toBe(1);
    expect(await repos.mailOutbox.purge(T0 + 4)).toBe(1);
  });

  it('mail outbox: workers claiming at once through two connections never claim one mail twice', async () => {
    const e = await setup();
    const other = await e.openAnother();
    for (let n = 1; n <= 30; n += 1) await e.repos.mailOutbox.enqueue(mail(n, T0 + n));
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? other.repos : e.repos).mailOutbox.claim(T0 + HOUR, MINUTE, `w${i}`, 8),
      ),
    );
    const claimed = batches.flat().map((m) => m.id);
    expect(claimed).toHaveLength(30);
    expect(new Set(claimed).size).toBe(30);
  });

  it('preferences: stored per owner, replaced, read many; suppressions in any letter case', async () => {
    const { repos } = await setup();
    await seedNode(repos, 1);
    await seedNode(repos, 2);
    expect(await repos.preferences.get('own_1')).toBeUndefined();
    await repos.preferences.put('own_1', { choices: { offline: false }, offlineMinutes: 30 }, T0);
    await repos.preferences.put(
      'own_1',
      { choices: { offline: true, statement: false }, offlineMinutes: 15 },
      T0 + 1,
    );
    await repos.preferences.put('own_2', { choices: {}, offlineMinutes: 5 }, T0);
    expect(await repos.preferences.get('own_1')).toEqual({
      choices: { offline: true, statement: false },
      offlineMinutes: 15,
    });
    const many = await repos.preferences.getMany(['own_2', 'own_9', 'own_1']);
    expect([...many.keys()].sort()).toEqual(['own_1', 'own_2']);
    expect(many.get('own_2')).toEqual({ choices: {}, offlineMinutes: 5 });
    await expect(repos.preferences.put('own_2', { choices: {}, offlineMinutes: 4 }, T0)).rejects.toThrow();
    await repos.preferences.suppress('Ops@Example.com', 'ops', T0);
    await repos.preferences.suppress('ops@example.COM', 'ops', T0 + 1);
    expect(await repos.preferences.isSuppressed('OPS@example.com', 'ops')).toBe(true);
    expect(await repos.preferences.isSuppressed('ops@example.com', 'account')).toBe(false);
  });

  it('webhooks: listed by scope, subscribers by event, deliveries once per event, leased, attempts recorded, deleted', async () => {
    const { repos } = await setup();
    await seedNode(repos, 1);
    const hook = (id: string, events: string[], ownerId: string | null, createdAt: number) => ({
      id,
      url: `https://hooks.example.com/${id}`,
      events: events as ('node.approved' | 'node.offline')[],
      secretSealed: `sealed-${id}`,
      ownerId,
      createdBy: 'tok_1',
      createdAt,
    });
    await repos.webhooks.create(hook('wh_b', ['node.approved'], null, T0 + 1));
    await repos.webhooks.create(hook('wh_a', ['node.approved', 'node.offline'], 'own_1', T0 + 1));
    await repos.webhooks.create(hook('wh_c', ['node.offline'], null, T0));
    const ids = (hooks: { id: string }[]) => hooks.map((h) => h.id);
    expect(ids(await repos.webhooks.list())).toEqual(['wh_c', 'wh_a', 'wh_b']);
    expect(ids(await repos.webhooks.list(null))).toEqual(['wh_c', 'wh_b']);
    expect(ids(await repos.webhooks.list('own_1'))).toEqual(['wh_a']);
    expect(ids(await repos.webhooks.subscribers('node.approved'))).toEqual(['wh_a', 'wh_b']);
    expect(await repos.webhooks.get('wh_a')).toEqual({
      ...hook('wh_a', ['node.approved', 'node.offline'], 'own_1', T0 + 1),
      deletedAt: null,
    });
    const delivery = (id: string, webhookId: string, createdAt: number) => ({
      id,
      webhookId,
      eventId: 'evt_1',
      event: 'node.approved' as const,
      body: '{"type":"node.approved"}',
      createdAt,
    });
    expect(await repos.webhooks.addDelivery(delivery('whd_1', 'wh_a', T0 + 5))).toBe(true);
    expect(await repos.webhooks.addDelivery(delivery('whd_dup', 'wh_a', T0 + 6))).toBe(false);
    expect(await repos.webhooks.addDelivery(delivery('whd_2', 'wh_b', T0 + 4))).toBe(true);
    const due = await repos.webhooks.claimDue(T0 + 10, MINUTE, 'w1', 10);
    expect(due.map((d) => [d.id, d.attempts, d.url, d.secretSealed])).toEqual([
      ['whd_2', 1, 'https://hooks.example.com/wh_b', 'sealed-wh_b'],
      ['whd_1', 1, 'https://hooks.example.com/wh_a', 'sealed-wh_a'],
    ]);
    expect(await repos.webhooks.claimDue(T0 + 20, MINUTE, 'w2', 10)).toEqual([]);
    const attempt = {
      deliveryId: 'whd_1',
      attempt: 1,
      at: T0 + 30,
      durationMs: 12,
      status: 200,
      error: null,
    };
    await repos.webhooks.recordAttempt(attempt, 'w2', { status: 'delivered', nextAttemptAt: T0 + 30 }); // not its lease
    expect(await repos.webhooks.attempts('whd_1')).toEqual([]);
    await repos.webhooks.recordAttempt(attempt, 'w1', { status: 'delivered', nextAttemptAt: T0 + 30 });
    await repos.webhooks.recordAttempt(
      { ...attempt, deliveryId: 'whd_2', status: 500, error: 'boom' },
      'w1',
      { status: 'pending', nextAttemptAt: T0 + HOUR },
    );
    expect(await repos.webhooks.attempts('whd_1')).toEqual([attempt]);
    expect((await repos.webhooks.deliveries('wh_a', 10))[0]).toMatchObject({
      status: 'delivered',
      deliveredAt: T0 + 30,
      lastStatus: 200,
    });
    expect((await repos.webhooks.deliveries('wh_b', 10))[0]).toMatchObject({
      status: 'pending',
      lastError: 'boom',
      nextAttemptAt: T0 + HOUR,
      deliveredAt: null,
    });
    // Deleting a webhook fails its pending deliveries; it is gone from lists and claims.
    expect(await repos.webhooks.delete('wh_b', T0 + 40)).toBe(true);
    expect(await repos.webhooks.delete('wh_b', T0 + 41)).toBe(false);
    expect(await repos.webhooks.get('wh_b')).toBeUndefined();
    expect((await repos.webhooks.deliveries('wh_b', 10))[0]).toMatchObject({
      status: 'failed',
      lastError: 'the webhook was deleted',
    });
    expect(await repos.webhooks.claimDue(T0 + 2 * HOUR, MINUTE, 'w3', 10)).toEqual([]);
  });

  it('fleet watch: watched nodes, last signs of life, pending alerts re-sent after a while, one notice per node', async () => {
    const { repos } = await setup();
    await seedNode(repos, 1, { at: T0 });
    await seedNode(repos, 2, { at: T0 + 1 });
    await seedNode(repos, 3, { at: T0 + 2 });
    expect(await repos.nodes.transition('node_1', 'pending', 'approved', null, 'tok', T0 + 5)).toBe(true);
    expect(await repos.fleetWatch.watched()).toEqual([{ id: 'node_1', ownerId: 'own_1' }]);
    await repos.presence.write([
      {
        id: 'pi_1',
        nodeId: 'node_1',
        startedAt: T0,
        lastSeenAt: T0 + 10,
        endedAt: T0 + 20,
        endReason: 'x',
        bootId: null,
      },
      {
        id: 'pi_2',
        nodeId: 'node_1',
        startedAt: T0 + 30,
        lastSeenAt: T0 + 40,
        endedAt: null,
        endReason: null,
        bootId: null,
      },
    ]);
    const seen = await repos.fleetWatch.lastSeen(['node_1', 'node_2']);
    expect([...seen]).toEqual([['node_1', T0 + 40]]);
    expect(await repos.fleetWatch.pendingWaiting(T0 + HOUR, T0, 10)).toEqual([
      { id: 'node_2', ownerId: 'own_2', since: T0 + 1 },
      { id: 'node_3', ownerId: 'own_3', since: T0 + 2 },
    ]);
    await repos.fleetWatch.recordPendingAlerts(['node_2', 'node_3'], T0 + HOUR);
    expect(await repos.fleetWatch.pendingWaiting(T0 + HOUR, T0 + HOUR, 10)).toEqual([]);
    await repos.fleetWatch.recordPendingAlerts(['node_3'], T0 + 2 * HOUR);
    expect(
      (await repos.fleetWatch.pendingWaiting(T0 + 3 * HOUR, T0 + 2 * HOUR, 10)).map((n) => n.id),
    ).toEqual(['node_2']);
    expect(await repos.fleetWatch.openNotice('node_1', T0 + 40, T0 + HOUR)).toBe(true);
    expect(await repos.fleetWatch.openNotice('node_1', T0 + 50, T0 + HOUR)).toBe(false);
    expect(await repos.fleetWatch.openNotices()).toEqual([{ nodeId: 'node_1', offlineSince: T0 + 40 }]);
    expect(await repos.fleetWatch.closeNotice('node_1')).toBe(true);
    expect(await repos.fleetWatch.closeNotice('node_1')).toBe(false);
  });
});
