/**
 * Webhooks, their deliveries (one per event and webhook, the exact signed body kept so that every
 * attempt sends the same bytes) and each delivery's attempts (the delivery log).
 */
import type { WebhookEventType } from '../core/domain-events.js';

export interface WebhookRecord {
  id: string;
  url: string;
  events: WebhookEventType[];
  /** The signing secret, sealed under the server's secret key. */
  secretSealed: string;
  /** Set: an owner's webhook, which hears only of that owner's machines. */
  ownerId: string | null;
  createdBy: string;
  createdAt: number;
  deletedAt: number | null;
}

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface DeliveryRecord {
  id: string;
  webhookId: string;
  eventId: string;
  event: WebhookEventType;
  body: string;
  createdAt: number;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number;
  lastStatus: number | null;
  lastError: string | null;
  deliveredAt: number | null;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  at: number;
  durationMs: number;
  /** The HTTP status the receiver answered, or null when no answer came. */
  status: number | null;
  error: string | null;
}

export interface WebhookRepository {
  create(hook: Omit<WebhookRecord, 'deletedAt'>): Promise<void>;
  get(id: string): Promise<WebhookRecord | undefined>;
  /** Live webhooks; `ownerId` undefined: all of them, null: staff ones, a string: that owner's. */
  list(ownerId?: string | null): Promise<WebhookRecord[]>;
  /** Deletes a webhook; its pending deliveries fail. False when it was deleted already. */
  delete(id: string, at: number): Promise<boolean>;
  /** Live webhooks that asked for this event. */
  subscribers(event: WebhookEventType): Promise<WebhookRecord[]>;
  /** False when that event was queued for that webhook already. */
  addDelivery(
    delivery: Pick<DeliveryRecord, 'id' | 'webhookId' | 'eventId' | 'event' | 'body' | 'createdAt'>,
  ): Promise<boolean>;
  /** Atomically leases up to `limit` due deliveries (of live webhooks) to `worker`. */
  claimDue(
    at: number,
    leaseMs: number,
    worker: string,
    limit: number,
  ): Promise<(DeliveryRecord & { url: string; secretSealed: string })[]>;
  /** Records an attempt and the delivery's new state; only while `worker` holds the lease. */
  recordAttempt(
    attempt: AttemptRecord,
    worker: string,
    next: { status: DeliveryStatus; nextAttemptAt: number },
  ): Promise<void>;
  /** Newest first. */
  deliveries(webhookId: string, limit: number): Promise<DeliveryRecord[]>;
  attempts(deliveryId: string): Promise<AttemptRecord[]>;
}
