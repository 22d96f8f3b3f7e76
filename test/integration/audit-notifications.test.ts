/**
 * Audits tell the owner (issue 13 with issue 17's notifications): a failed audit puts an
 * `audit.failed` event in the outbox in the outcome's own transaction, and the owner gets a mail
 * naming what failed and what to do; passing again sends the all-clear. The server has no SMTP
 * server here, so mails are the `.eml` files it writes in its data folder.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mailFiles } from '../helpers/mail-catcher.js';
import { auditSetup, waitFor } from './audit-sim-support.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('audit notifications', () => {
  it('mails the owner when an audit fails, with the fix, and again when it passes', async () => {
    const s = await auditSetup({
      deps: { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 60_000 } },
    });
    cleanup.push(() => s.server.close());
    const owner = await s.server.createOwner();
    const node = await s.node({ ownerId: owner.id, join: true });
    const mailDir = join(s.server.dir, 'mail');
    const toOwner = () => mailFiles(mailDir).filter((m) => m.to.join(',').includes(owner.email));

    await s.tick();
    await node.answer('fail');
    await waitFor(async () => toOwner().some((m) => /audit|check/i.test(m.subject)), 'the failure mail');
    const failed = toOwner().find((m) => /audit|check/i.test(m.subject))!;
    expect(failed.text).toContain(node.nodeId);
    // What failed and what to do, from the report itself, and the guide's section.
    expect(failed.text).toMatch(/Fix|fix|do this/);
    expect(failed.text).toContain('/docs/troubleshooting');

    const before = toOwner().length;
    await s.server.api('POST', `/v1/nodes/${node.nodeId}/audits`, { body: {} });
    await s.tick();
    await node.answer('pass');
    await waitFor(async () => toOwner().length > before, 'the all-clear mail');
    const passed = toOwner().at(-1)!;
    expect(passed.subject).not.toBe(failed.subject);
    expect(passed.text).toContain(node.nodeId);
  }, 60_000);
});
