import type { WebhookEventType } from '../../core/domain-events.js';
import type { Sql } from '../../core/postgres/engine.js';
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryStatus,
  WebhookRecord,
  WebhookRepository,
} from '../webhook-repository.js';

type HookRow = {
  id: string;
  url: string;
  events: string;
  secret_sealed: string;
  owner_id: string | null;
  created_by: string;
  created_at: number;
  deleted_at: number | null;
};

type DeliveryRow = {
  id: string;
  webhook_id: string;
  event_id: string;
  event: WebhookEventType;
  body: string;
  created_at: number;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  delivered_at: number | null;
};

type AttemptRow = {
  delivery_id: string;
  attempt: number;
  at: number;
  duration_ms: number;
  status: number | null;
  error: string | null;
};

const HOOK = 'id, url, events, secret_sealed, owner_id, created_by, created_at, deleted_at';
const DELIVERY =
  'id, webhook_id, event_id, event, body, created_at, status, attempts, next_attempt_at, last_status, last_error, delivered_at';

const toHook = (r: HookRow): WebhookRecord => ({
  id: r.id,
  url: r.url,
  events: JSON.parse(r.events) as WebhookEventType[],
  secretSealed: r.secret_sealed,
  ownerId: r.owner_id,
  createdBy: r.created_by,
  createdAt: r.created_at,
  deletedAt: r.deleted_at,
});

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  id: r.id,
  webhookId: r.webhook_id,
  eventId: r.event_id,
  event: r.event,
  body: r.body,
  createdAt: r.created_at,
  status: r.status,
  attempts: r.attempts,
  nextAttemptAt: r.next_attempt_at,
  lastStatus: r.last_status,
  lastError: r.last_error,
  deliveredAt: r.delivered_at,
});

const toAttempt = (r: AttemptRow): AttemptRecord => ({
  deliveryId: r.delivery_id,
  attempt: r.attempt,
  at: r.at,
  durationMs: r.duration_ms,
  status: r.status,
  error: r.error,
});

const dueOrder = (a: DeliveryRow, b: DeliveryRow) =>
  a.next_attempt_at - b.next_attempt_at ||
  a.created_at - b.created_at ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export function postgresWebhookRepository(sql: Sql): WebhookRepository {
  return {
    create: async (hook) => {
      await sql.run(
        `INSERT INTO webhooks (id, url, events, secret_sealed, owner_id, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          hook.id,
          hook.url,
          JSON.stringify(hook.events),
          hook.secretSealed,
          hook.ownerId,
          hook.createdBy,
          hook.createdAt,
        ],
      );
    },
    get: async (id) => {
      const row = await sql.row<HookRow>(
        `SELECT ${HOOK} FROM webhooks WHERE id = $1 AND deleted_at IS NULL`,
        [id],
      );
      return row && toHook(row);
    },
    list: async (ownerId) =>
      (ownerId === undefined
        ? await sql.rows<HookRow>(
            `SELECT ${HOOK} FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id`,
          )
        : ownerId === null
          ? await sql.rows<HookRow>(
              `SELECT ${HOOK} FROM webhooks WHERE deleted_at IS NULL AND owner_id IS NULL ORDER BY created_at, id`,
            )
          : await sql.rows<HookRow>(
              `SELECT ${HOOK} FROM webhooks WHERE deleted_at IS NULL AND owner_id = $1 ORDER BY created_at, id`,
              [ownerId],
            )
      ).map(toHook),
    // One statement: the webhook goes, and its pending deliveries fail with it.
    delete: async (id, at) =>
      (
        await sql.rows<{ id: string }>(
          `WITH removed AS (
             UPDATE webhooks SET deleted_at = $1 WHERE id = $2 AND deleted_at IS NULL RETURNING id),
           failed AS (
             UPDATE webhook_deliveries SET status = 'failed', last_error = 'the webhook was deleted',
               lease_owner = NULL, lease_until = NULL
             WHERE webhook_id IN (SELECT id FROM removed) AND status = 'pending' RETURNING id)
           SELECT id FROM removed`,
          [at, id],
        )
      ).length === 1,
    subscribers: async (event) =>
      (
        await sql.rows<HookRow>(
          `SELECT ${HOOK} FROM webhooks
           WHERE deleted_at IS NULL AND EXISTS (SELECT 1 FROM json_array_elements_text(webhooks.events::json) e WHERE e = $1)
           ORDER BY created_at, id`,
          [event],
        )
      ).map(toHook),
    addDelivery: async (d) =>
      (await sql.run(
        `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event, body, created_at, status, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'pending', $6) ON CONFLICT DO NOTHING`,
        [d.id, d.webhookId, d.eventId, d.event, d.body, d.createdAt],
      )) === 1,
    // One statement: replicas claiming at once skip each other's rows, so no delivery goes out twice.
    claimDue: async (at, leaseMs, worker, limit) =>
      (
        await sql.rows<DeliveryRow & { url: string; secret_sealed: string }>(
          `WITH due AS (
             SELECT d.id, w.url, w.secret_sealed FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1)
               AND w.deleted_at IS NULL
             ORDER BY d.next_attempt_at, d.created_at, d.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED)
           UPDATE webhook_deliveries x SET lease_owner = $3, lease_until = $1::bigint + $2::bigint,
             attempts = x.attempts + 1
           FROM due WHERE x.id = due.id
           RETURNING x.id, x.webhook_id, x.event_id, x.event, x.body, x.created_at, x.status, x.attempts,
             x.next_attempt_at, x.last_status, x.last_error, x.delivered_at, due.url, due.secret_sealed`,
          [at, leaseMs, worker, limit],
        )
      )
        .sort(dueOrder)
        .map((r) => ({ ...toDelivery(r), url: r.url, secretSealed: r.secret_sealed })),
    // One statement: the attempt is written only by the worker that still holds the lease.
    recordAttempt: async (attempt, worker, next) => {
      const error = attempt.error?.slice(0, 1000) ?? null;
      await sql.run(
        `WITH updated AS (
           UPDATE webhook_deliveries SET status = $3, next_attempt_at = $4, last_status = $5, last_error = $6,
             delivered_at = CASE WHEN $3::text = 'delivered' THEN $7 ELSE delivered_at END,
             lease_owner = NULL, lease_until = NULL
           WHERE id = $1 AND lease_owner = $2 AND status = 'pending' RETURNING id)
         INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, status, error)
         SELECT id, $8, $7, $9, $5, $6 FROM updated`,
        [
          attempt.deliveryId,
          worker,
          next.status,
          next.nextAttemptAt,
          attempt.status,
          error,
          attempt.at,
          attempt.attempt,
          attempt.durationMs,
        ],
      );
    },
    deliveries: async (webhookId, limit) =>
      (
        await sql.rows<DeliveryRow>(
          `SELECT ${DELIVERY} FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`,
          [webhookId, limit],
        )
      ).map(toDelivery),
    attempts: async (deliveryId) =>
      (
        await sql.rows<AttemptRow>('SELECT * FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt', [
          deliveryId,
        ])
      ).map(toAttempt),
  };
}
