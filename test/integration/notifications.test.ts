/**
 * Notifications end to end, with a real SMTP server on loopback and simulated agents on the real
 * control channel: owners hear when a machine is approved, rejected (with the reason) or revoked,
 * when it has been offline longer than their threshold and when it is back, when an audit fails
 * (what to do, the guide's link) and passes again, and when a statement is locked; each choice is
 * theirs (`GET|PUT /v1/me/notifications`); ops hear of a pending queue that waits and of many
 * machines dropping at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SimConnection,
  type SimIdentity,
  connectControl,
  newSimIdentity,
  signNodeToken,
  simHello,
} from '../../scripts/sim/sim-agent.js';
import { browserClient } from '../helpers/browser-client.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type MailCatcher, startMailCatcher } from '../helpers/mail-catcher.js';
import { type TestServerOptions, freePort, manualClock, startTestServer } from '../helpers/server.js';

const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 100 } };
const MINUTE = 60_000;

describe('notifications', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(options: TestServerOptions = {}) {
    const clock = manualClock(Date.parse('2026-12-01T14:00:00Z'));
    const mail = await startMailCatcher();
    cleanup.push(() => mail.stop());
    const server = await startTestServer({
      port: await freePort(),
      now: clock.now,
      deps: FAST,
      ...options,
      accounts: { smtpUrl: mail.url, opsEmails: ['ops@example.com'], ...options.accounts },
    });
    cleanup.push(() => server.close());
    const owner = await server.createOwner('ada@example.com', 'Ada');
    const ownerToken = await server.tokenFor('owner', owner.id);
    const enroll = async (ownerId = owner.id): Promise<{ nodeId: string; identity: SimIdentity }> => {
      const identity = await newSimIdentity();
      const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
      const res = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await server.createKey(ownerId)).key, machine),
      });
      return { nodeId: res.body.nodeId, identity };
    };
    const connect = async (nodeId: string, identity: SimIdentity): Promise<SimConnection> => {
      const token = await signNodeToken(identity, nodeId, {
        skewSeconds: Math.round((clock.now() - Date.now()) / 1000),
      });
      const { conn } = await connectControl(server.url, token);
      if (!conn) throw new Error('control channel refused');
      conn.send(simHello());
      await conn.next('welcome');
      cleanup.push(() => conn.close(true).catch(() => undefined));
      return conn;
    };
    return { server, mail, clock, owner, ownerToken, enroll, connect };
  }

  const to = (mail: MailCatcher, address: string, subject: RegExp) =>
    mail.waitFor((m) => m.to.includes(address) && subject.test(m.subject));

  it('tells the owner when a machine is approved, rejected with the reason, and revoked', async () => {
    const { server, mail, enroll } = await setup();
    const a = await enroll();
    await server.api('POST', `/v1/nodes/${a.nodeId}/approve`, { body: { note: 'Welcome aboard.' } });
    const approved = await to(mail, 'ada@example.com', /approved/);
    expect(approved.subject).toBe(`Your machine ${a.nodeId} is approved`);
    expect(approved.text).toContain(`Your machine '${a.nodeId}' was approved.`);
    expect(approved.text).toContain('Welcome aboard.');
    expect(approved.text).toContain(`${server.url}/nodes/${a.nodeId}`);

    const b = await enroll();
    await server.api('POST', `/v1/nodes/${b.nodeId}/reject`, {
      body: { reason: 'Only one GPU machine per home for now.' },
    });
    const rejected = await to(mail, 'ada@example.com', /not approved/);
    expect(rejected.text).toContain('“Only one GPU machine per home for now.”');
    expect(rejected.text).toContain('What to do:');

    await server.api('POST', `/v1/nodes/${a.nodeId}/revoke`, { body: { reason: 'Sold the machine.' } });
    const revoked = await to(mail, 'ada@example.com', /removed/);
    expect(revoked.text).toContain('“Sold the machine.”');
    expect(revoked.headers.get('list-unsubscribe')).toMatch(/unsubscribe\?token=/);
  });

  it('holds each choice in GET|PUT /v1/me/notifications and sends only what the owner chose', async () => {
    const { server, mail, enroll, ownerToken } = await setup();
    const asOwner = { token: ownerToken };
    const initial = await server.api<{ choices: Record<string, boolean>; offlineMinutes: number }>(
      'GET',
      '/v1/me/notifications',
      asOwner,
    );
    expect(initial.body).toEqual({
      choices: {
        nodeApproved: true,
        nodeRejected: true,
        nodeRevoked: true,
        nodeOffline: true,
        auditFailed: true,
        statementLocked: true,
      },
      offlineMinutes: 30,
    });
    const put = await server.api('PUT', '/v1/me/notifications', {
      ...asOwner,
      body: { choices: { nodeApproved: false }, offlineMinutes: 45 },
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      choices: { nodeApproved: false, nodeRejected: true },
      offlineMinutes: 45,
    });
    expect(
      (await server.api('PUT', '/v1/me/notifications', { ...asOwner, body: { offlineMinutes: 4 } })).status,
    ).toBe(400);
    expect(
      (
        await server.api('PUT', '/v1/me/notifications', {
          ...asOwner,
          body: { choices: { marketing: true } },
        })
      ).status,
    ).toBe(400);
    expect(
      (await server.api('GET', '/v1/me/notifications', { token: await server.tokenFor('ops') })).status,
    ).toBe(403);
    expect((await server.api('GET', '/v1/me/notifications', { token: null })).status).toBe(401);

    const a = await enroll();
    await server.api('POST', `/v1/nodes/${a.nodeId}/approve`, { body: {} });
    const b = await enroll();
    await server.api('POST', `/v1/nodes/${b.nodeId}/reject`, { body: { reason: 'Duplicate.' } });
    await to(mail, 'ada@example.com', /not approved/);
    expect(mail.mails.some((m) => /is approved/.test(m.subject))).toBe(false);
  });

  it('tells the owner a machine is offline after their threshold, once, and when it is back; restart tells nobody twice', async () => {
    const { server, mail, clock, enroll, connect, ownerToken } = await setup();
    await server.api('PUT', '/v1/me/notifications', { token: ownerToken, body: { offlineMinutes: 20 } });
    const a = await enroll();
    await server.api('POST', `/v1/nodes/${a.nodeId}/approve`, { body: {} });
    const conn = await connect(a.nodeId, a.identity);
    clock.advance(5 * MINUTE);
    await new Promise((r) => setTimeout(r, 300));
    await conn.close(true); // the machine goes away at 14:05 UTC
    clock.advance(15 * MINUTE);
    await new Promise((r) => setTimeout(r, 500));
    expect(mail.mails.some((m) => /offline/.test(m.subject))).toBe(false);
    clock.advance(6 * MINUTE);
    const offline = await to(mail, 'ada@example.com', /offline/);
    expect(offline.subject).toBe(`Your machine ${a.nodeId} is offline`);
    expect(offline.text).toContain(
      `Your machine '${a.nodeId}' has been offline since 14:05 UTC on 1 Dec 2026. Check that it is on and connected; it will be paid again from the minute it is back.`,
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(mail.mails.filter((m) => /offline/.test(m.subject))).toHaveLength(1);

    // The server restarts while the machine is still away: nobody is told twice.
    await server.close({ keepFiles: true });
    const restarted = await startTestServer({
      port: server.port,
      dbPath: server.dbPath,
      now: clock.now,
      deps: FAST,
      accounts: { smtpUrl: mail.url },
    });
    cleanup.push(() => restarted.close());
    clock.advance(10 * MINUTE);
    await new Promise((r) => setTimeout(r, 500));
    expect(mail.mails.filter((m) => /offline/.test(m.subject))).toHaveLength(1);

    const token = await signNodeToken(a.identity, a.nodeId, {
      skewSeconds: Math.round((clock.now() - Date.now()) / 1000),
    });
    const { conn: again } = await connectControl(restarted.url, token);
    if (!again) throw new Error('control channel refused');
    again.send(simHello());
    await again.next('welcome');
    const back = await to(mail, 'ada@example.com', /back online/);
    expect(back.text).toContain(
      `Your machine '${a.nodeId}' is connected again since 14:36 UTC on 1 Dec 2026, after 31 minutes offline.`,
    );
    await again.close(true);
    expect(mail.mails.filter((m) => /offline|back online/.test(m.subject))).toHaveLength(2);
  });

  it('tells ops when the pending queue waits too long (once per machine) and when many machines drop at once', async () => {
    const { server, mail, clock, enroll, connect } = await setup({
      accounts: { fleetWatch: { pendingMinutes: 60, dropCount: 3, dropWindowMinutes: 5 } },
    });
    const pending = await enroll();
    clock.advance(61 * MINUTE);
    const waiting = await to(mail, 'ops@example.com', /waited/);
    expect(waiting.subject).toBe('1 machine has waited more than 60 minutes for approval');
    expect(waiting.text).toContain(pending.nodeId);
    expect(waiting.text).toContain(`${server.url}/pending`);
    expect(waiting.text).toContain('HOMENODE_OPS_EMAIL');

    const nodes = [await enroll(), await enroll(), await enroll()];
    for (const n of nodes) await server.api('POST', `/v1/nodes/${n.nodeId}/approve`, { body: {} });
    const conns = await Promise.all(nodes.map((n) => connect(n.nodeId, n.identity)));
    await new Promise((r) => setTimeout(r, 400));
    for (const c of conns) await c.close(true);
    const dropped = await to(mail, 'ops@example.com', /went offline/);
    expect(dropped.subject).toBe('3 machines went offline within 5 minutes');
    for (const n of nodes) expect(dropped.text).toContain(n.nodeId);
    expect(mail.mails.filter((m) => /waited/.test(m.subject))).toHaveLength(1);
  });

  it('takes audit results through notify(): what failed, what to do, the guide; and passing again', async () => {
    const { server, mail, enroll, owner } = await setup();
    const a = await enroll();
    const { notifier } = server.app.homenode.context;
    await notifier.notify({
      type: 'audit.failed',
      nodeId: a.nodeId,
      ownerId: owner.id,
      auditId: 'aud_1',
      failedChecks: [
        {
          id: 'gpu',
          summary: 'GPU GPU-1234 is missing',
          fix: 'Check that the card is seated and powered, then restart',
          docUrl: '/docs/troubleshooting#gpu',
        },
      ],
    });
    const failed = await to(mail, 'ada@example.com', /failed its check/);
    expect(failed.subject).toBe(`Your machine ${a.nodeId} failed its check: gpu`);
    expect(failed.text).toContain(
      `GPU GPU-1234 is missing. What to do: Check that the card is seated and powered, then restart. Guide: ${server.url}/docs/troubleshooting#gpu`,
    );
    await notifier.notify({ type: 'audit.passed', nodeId: a.nodeId, ownerId: owner.id, auditId: 'aud_2' });
    expect((await to(mail, 'ada@example.com', /passed its check again/)).text).toContain('paid again');
  });

  it('tells each owner their part when a statement is locked, and only owners with a confirmed address', async () => {
    const { server, mail, clock, enroll, connect } = await setup();
    const reviewer = { token: await server.tokenFor('reviewer') };
    const unconfirmed = browserClient(server.url);
    await unconfirmed.call('POST', '/v1/signup', {
      email: 'new@example.com',
      name: 'New',
      password: 'correct horse battery',
    });
    await server.api('POST', '/v1/rate-cards', {
      ...reviewer,
      body: {
        effectiveFrom: '2026-11-01T00:00:00Z',
        rates: {
          'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        },
      },
    });
    const a = await enroll();
    await server.api('POST', `/v1/nodes/${a.nodeId}/approve`, { body: {} });
    const period = await server.api<{ id: string }>('POST', '/v1/payout-periods', {
      ...reviewer,
      body: { start: '2026-12-01T15:00:00Z', end: '2026-12-01T16:00:00Z' },
    });
    clock.set(Date.parse('2026-12-01T15:00:00Z'));
    const conn = await connect(a.nodeId, a.identity);
    clock.set(Date.parse('2026-12-01T16:00:00Z'));
    conn.send({ type: 'heartbeat', seq: 1, metrics: {} });
    await conn.close(true);
    clock.advance(MINUTE);
    const locked = await server.api<{ totals: { totalUusd: string } }>(
      'POST',
      `/v1/payout-periods/${period.body.id}/lock`,
      reviewer,
    );
    expect(locked.status).toBe(200);
    const statement = await to(mail, 'ada@example.com', /statement/);
    expect(statement.subject).toBe('Your Home Node statement for 1 Dec 2026 to 1 Dec 2026: $0.20');
    expect(statement.text).toContain(`${server.url}/earnings`);
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.mails.some((m) => m.to.includes('new@example.com') && /statement/.test(m.subject))).toBe(
      false,
    );
  });
});
