import type { Sql } from '../../core/postgres/engine.js';
import type { MailOutboxRepository, MailStatus, OutboxMail } from '../mail-outbox-repository.js';
import type { MailParams } from '../mail-params.js';
import type { MailCategory } from '../preferences.js';

type Row = {
  id: string;
  event_id: string;
  owner_id: string | null;
  to_address: string;
  template: string;
  params: string;
  category: MailCategory;
  created_at: number;
  next_attempt_at: number;
  attempts: number;
};

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

const dueOrder = (a: Row, b: Row) =>
  a.next_attempt_at - b.next_attempt_at ||
  a.created_at - b.created_at ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function postgresMailOutboxRepository(sql: Sql): MailOutboxRepository {
  return {
    enqueue: async (mail) =>
      (await sql.run(
        `INSERT INTO mail_outbox (id, event_id, owner_id, to_address, template, params, category, created_at,
           status, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $8) ON CONFLICT DO NOTHING`,
        [
          mail.id,
          mail.eventId,
          mail.ownerId,
          mail.to,
          mail.template,
          JSON.stringify(mail.params),
          mail.category,
          mail.createdAt,
        ],
      )) === 1,
    // One statement: replicas claiming at once skip each other's rows, so no mail goes out twice.
    claim: async (at, leaseMs, worker, limit) =>
      (
        await sql.rows<Row>(
          `WITH due AS (
             SELECT id FROM mail_outbox
             WHERE status = 'queued' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)
             ORDER BY next_attempt_at, created_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
           UPDATE mail_outbox m SET lease_owner = $3, lease_until = $1::bigint + $2::bigint, attempts = m.attempts + 1
           FROM due WHERE m.id = due.id
           RETURNING m.id, m.event_id, m.owner_id, m.to_address, m.template, m.params, m.category, m.created_at,
             m.next_attempt_at, m.attempts`,
          [at, leaseMs, worker, limit],
        )
      )
        .sort(dueOrder)
        .map(toMail),
    markSent: async (id, worker, at) =>
      (await sql.run(
        `UPDATE mail_outbox SET status = 'sent', sent_at = $1, lease_owner = NULL, lease_until = NULL, last_error = NULL
         WHERE id = $2 AND lease_owner = $3 AND status = 'queued'`,
        [at, id, worker],
      )) === 1,
    retryLater: async (id, worker, nextAttemptAt, error) => {
      await sql.run(
        `UPDATE mail_outbox SET next_attempt_at = $1, last_error = $2, lease_owner = NULL, lease_until = NULL
         WHERE id = $3 AND lease_owner = $4 AND status = 'queued'`,
        [nextAttemptAt, error.slice(0, 1000), id, worker],
      );
    },
    markFailed: async (id, worker, error) => {
      await sql.run(
        `UPDATE mail_outbox SET status = 'failed', last_error = $1, lease_owner = NULL, lease_until = NULL
         WHERE id = $2 AND lease_owner = $3 AND status = 'queued'`,
        [error.slice(0, 1000), id, worker],
      );
    },
    counts: async () => {
      const out: Record<MailStatus, number> = { queued: 0, sent: 0, failed: 0 };
      for (const r of await sql.rows<{ status: MailStatus; n: number }>(
        'SELECT status, COUNT(*) AS n FROM mail_outbox GROUP BY status',
      ))
        out[r.status] = r.n;
      return out;
    },
    purge: (before) =>
      sql.run("DELETE FROM mail_outbox WHERE status IN ('sent', 'failed') AND created_at < $1", [before]),
  };
}
