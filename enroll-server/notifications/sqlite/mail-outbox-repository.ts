import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { MailOutboxRepository, MailStatus, OutboxMail } from '../mail-outbox-repository.js';
import type { MailParams } from '../mail-params.js';
import type { MailCategory } from '../preferences.js';

interface Row {
  id: string;
  event_id: string;
  owner_id: string | null;
  to_address: string;
  template: string;
  params: string;
  category: MailCategory;
  created_at: number;
  attempts: number;
}

const toMail = (r: Row): OutboxMail => ({
  id: r.id,
  eventId: r.event_id,
  ownerId: r.owner_id,
  to: r.to_address,
  template: r.template,
  params: JSON.parse(r.params) as MailParams,
  category: r.category,
  createdAt: r.created_at,
  attempts: r.attempts,
});

export function sqliteMailOutboxRepository(db: Db): (run: Run) => MailOutboxRepository {
  const insert = db.prepare(
    `INSERT OR IGNORE INTO mail_outbox (id, event_id, owner_id, to_address, template, params, category, created_at,
       status, next_attempt_at)
     VALUES (@id, @eventId, @ownerId, @to, @template, @params, @category, @createdAt, 'queued', @createdAt)`,
  );
  const due = db.prepare<{ at: number; limit: number }, Row>(
    `SELECT id, event_id, owner_id, to_address, template, params, category, created_at, attempts FROM mail_outbox
     WHERE status = 'queued' AND next_attempt_at <= @at AND (lease_until IS NULL OR lease_until <= @at)
     ORDER BY next_attempt_at, created_at LIMIT @limit`,
  );
  const lease = db.prepare(
    'UPDATE mail_outbox SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?',
  );
  const sent = db.prepare(
    `UPDATE mail_outbox SET status = 'sent', sent_at = ?, lease_owner = NULL, lease_until = NULL, last_error = NULL
     WHERE id = ? AND lease_owner = ? AND status = 'queued'`,
  );
  const retry = db.prepare(
    `UPDATE mail_outbox SET next_attempt_at = ?, last_error = ?, lease_owner = NULL, lease_until = NULL
     WHERE id = ? AND lease_owner = ? AND status = 'queued'`,
  );
  const failed = db.prepare(
    `UPDATE mail_outbox SET status = 'failed', last_error = ?, lease_owner = NULL, lease_until = NULL
     WHERE id = ? AND lease_owner = ? AND status = 'queued'`,
  );
  const counts = db.prepare<[], { status: MailStatus; n: number }>(
    'SELECT status, COUNT(*) AS n FROM mail_outbox GROUP BY status',
  );
  const purge = db.prepare("DELETE FROM mail_outbox WHERE status IN ('sent', 'failed') AND created_at < ?");
  const claim = db.transaction((at: number, leaseMs: number, worker: string, limit: number) => {
    const rows = due.all({ at, limit });
    for (const row of rows) lease.run(worker, at + leaseMs, row.id);
    return rows.map((r) => ({ ...toMail(r), attempts: r.attempts + 1 }));
  });
  return (run) => ({
    enqueue: (mail) => run(() => insert.run({ ...mail, params: JSON.stringify(mail.params) }).changes === 1),
    claim: (at, leaseMs, worker, limit) => run(() => claim(at, leaseMs, worker, limit)),
    markSent: (id, worker, at) => run(() => sent.run(at, id, worker).changes === 1),
    retryLater: (id, worker, nextAttemptAt, error) =>
      run(() => {
        retry.run(nextAttemptAt, error.slice(0, 1000), id, worker);
      }),
    markFailed: (id, worker, error) =>
      run(() => {
        failed.run(error.slice(0, 1000), id, worker);
      }),
    counts: () =>
      run(() => {
        const out: Record<MailStatus, number> = { queued: 0, sent: 0, failed: 0 };
        for (const r of counts.all()) out[r.status] = r.n;
        return out;
      }),
    purge: (before) => run(() => purge.run(before).changes),
  });
}
