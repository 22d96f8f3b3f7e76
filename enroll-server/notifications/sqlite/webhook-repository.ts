import type { WebhookEventType } from '../../core/domain-events.js';
import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type {
  AttemptRecord,
  DeliveryRecord,
  DeliveryStatus,
  WebhookRecord,
  WebhookRepository,
} from '../webhook-repository.js';

interface HookRow {
  id: string;
  url: string;
  events: string;
  secret_sealed: string;
  owner_id: string | null;
  created_by: string;
  created_at: number;
  deleted_at: number | null;
}

interface DeliveryRow {
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
}

interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: number;
  duration_ms: number;
  status: number | null;
  error: string | null;
}

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

export function sqliteWebhookRepository(db: Db): (run: Run) => WebhookRepository {
  const insert = db.prepare(
    `INSERT INTO webhooks (id, url, events, secret_sealed, owner_id, created_by, created_at)
     VALUES (@id, @url, @events, @secretSealed, @ownerId, @createdBy, @createdAt)`,
  );
  const get = db.prepare<[string], HookRow>('SELECT * FROM webhooks WHERE id = ? AND deleted_at IS NULL');
  const listAll = db.prepare<[], HookRow>(
    'SELECT * FROM webhooks WHERE deleted_at IS NULL ORDER BY created_at, id',
  );
  const listStaff = db.prepare<[], HookRow>(
    'SELECT * FROM webhooks WHERE deleted_at IS NULL AND owner_id IS NULL ORDER BY created_at, id',
  );
  const listOwner = db.prepare<[string], HookRow>(
    'SELECT * FROM webhooks WHERE deleted_at IS NULL AND owner_id = ? ORDER BY created_at, id',
  );
  const remove = db.prepare('UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL');
  const failPending = db.prepare(
    `UPDATE webhook_deliveries SET status = 'failed', last_error = 'the webhook was deleted', lease_owner = NULL,
       lease_until = NULL WHERE webhook_id = ? AND status = 'pending'`,
  );
  const subscribers = db.prepare<[string], HookRow>(
    `SELECT * FROM webhooks WHERE deleted_at IS NULL AND EXISTS (SELECT 1 FROM json_each(webhooks.events) WHERE value = ?)
     ORDER BY created_at, id`,
  );
  const addDelivery = db.prepare(
    `INSERT OR IGNORE INTO webhook_deliveries (id, webhook_id, event_id, event, body, created_at, status, next_attempt_at)
     VALUES (@id, @webhookId, @eventId, @event, @body, @createdAt, 'pending', @createdAt)`,
  );
  const due = db.prepare<{ at: number; limit: number }, DeliveryRow & { url: string; secret_sealed: string }>(
    `SELECT d.*, w.url, w.secret_sealed FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
     WHERE d.status = 'pending' AND d.next_attempt_at <= @at AND (d.lease_until IS NULL OR d.lease_until <= @at)
       AND w.deleted_at IS NULL
     ORDER BY d.next_attempt_at, d.created_at LIMIT @limit`,
  );
  const lease = db.prepare(
    'UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?, attempts = attempts + 1 WHERE id = ?',
  );
  const insertAttempt = db.prepare(
    `INSERT INTO webhook_attempts (delivery_id, attempt, at, duration_ms, status, error)
     VALUES (@deliveryId, @attempt, @at, @durationMs, @status, @error)`,
  );
  const update = db.prepare(
    `UPDATE webhook_deliveries SET status = @next, next_attempt_at = @nextAttemptAt, last_status = @status,
       last_error = @error, delivered_at = CASE WHEN @next = 'delivered' THEN @at ELSE delivered_at END,
       lease_owner = NULL, lease_until = NULL
     WHERE id = @deliveryId AND lease_owner = @worker AND status = 'pending'`,
  );
  const deliveries = db.prepare<[string, number], DeliveryRow>(
    'SELECT * FROM webhook_deliveries WHERE webhook_id = ? ORDER BY created_at DESC, id DESC LIMIT ?',
  );
  const attempts = db.prepare<[string], AttemptRow>(
    'SELECT * FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt',
  );
  const claim = db.transaction((at: number, leaseMs: number, worker: string, limit: number) => {
    const rows = due.all({ at, limit });
    for (const row of rows) lease.run(worker, at + leaseMs, row.id);
    return rows.map((r) => ({
      ...toDelivery(r),
      attempts: r.attempts + 1,
      url: r.url,
      secretSealed: r.secret_sealed,
    }));
  });
  const record = db.transaction(
    (attempt: AttemptRecord, worker: string, next: { status: DeliveryStatus; nextAttemptAt: number }) => {
      const changed = update.run({
        deliveryId: attempt.deliveryId,
        worker,
        next: next.status,
        nextAttemptAt: next.nextAttemptAt,
        status: attempt.status,
        error: attempt.error?.slice(0, 1000) ?? null,
        at: attempt.at,
      }).changes;
      if (changed === 1) insertAttempt.run({ ...attempt, error: attempt.error?.slice(0, 1000) ?? null });
    },
  );
  return (run) => ({
    create: (hook) =>
      run(() => {
        insert.run({ ...hook, events: JSON.stringify(hook.events) });
      }),
    get: (id) =>
      run(() => {
        const row = get.get(id);
        return row && toHook(row);
      }),
    list: (ownerId) =>
      run(() =>
        (ownerId === undefined
          ? listAll.all()
          : ownerId === null
            ? listStaff.all()
            : listOwner.all(ownerId)
        ).map(toHook),
      ),
    delete: (id, at) =>
      run(() => {
        if (remove.run(at, id).changes !== 1) return false;
        failPending.run(id);
        return true;
      }),
    subscribers: (event) => run(() => subscribers.all(event).map(toHook)),
    addDelivery: (delivery) => run(() => addDelivery.run(delivery).changes === 1),
    claimDue: (at, leaseMs, worker, limit) => run(() => claim(at, leaseMs, worker, limit)),
    recordAttempt: (attempt, worker, next) =>
      run(() => {
        record(attempt, worker, next);
      }),
    deliveries: (webhookId, limit) => run(() => deliveries.all(webhookId, limit).map(toDelivery)),
    attempts: (deliveryId) => run(() => attempts.all(deliveryId).map(toAttempt)),
  });
}
