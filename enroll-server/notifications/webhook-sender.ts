/**
 * Delivers webhook events: claims due deliveries with a lease, signs the stored body with the
 * webhook's secret (`x-homenode-signature: sha256=<hex HMAC-SHA256 of the body>`), POSTs it, and
 * records the attempt in the delivery log. A receiver that fails is tried again with backoff,
 * durable across restarts like the mail outbox; after the last attempt the delivery fails.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { RetryPolicy } from '../core/accounts-config.js';
import { unseal } from '../core/server-secret.js';
import { retryDelay } from './retry-schedule.js';
import {
  type DeliveryOptions,
  type DeliveryResult,
  deliverWebhook,
  signatureOf,
} from './webhook-delivery.js';
import type { DeliveryRecord, WebhookRepository } from './webhook-repository.js';

export const SIGNATURE_HEADER = 'x-homenode-signature';

export interface WebhookSenderDeps {
  webhooks: WebhookRepository;
  secretKey: Buffer;
  retry: RetryPolicy;
  delivery: DeliveryOptions;
  now: () => number;
  log: FastifyBaseLogger;
  workerId: string;
  leaseMs?: number;
  batch?: number;
}

export function createWebhookSender(deps: WebhookSenderDeps) {
  const leaseMs = deps.leaseMs ?? Math.max(60_000, deps.delivery.timeoutMs * 3);

  async function attempt(delivery: DeliveryRecord & { url: string; secretSealed: string }): Promise<boolean> {
    const at = deps.now();
    const secret = unseal(deps.secretKey, delivery.secretSealed, delivery.webhookId);
    const result: DeliveryResult =
      secret === undefined
        ? {
            status: null,
            error: "the webhook's secret cannot be opened with this server's secret key",
            durationMs: 0,
          }
        : await deliverWebhook(
            delivery.url,
            delivery.body,
            {
              'content-type': 'application/json',
              'user-agent': 'HomeNode-Webhook/1',
              'x-homenode-event': delivery.event,
              'x-homenode-delivery': delivery.id,
              [SIGNATURE_HEADER]: signatureOf(secret, delivery.body),
            },
            deps.delivery,
          );
    const ok = result.error === null;
    const delay = ok ? null : retryDelay(deps.retry, delivery.attempts);
    const status = ok ? 'delivered' : delay === null ? 'failed' : 'pending';
    await deps.webhooks.recordAttempt(
      {
        deliveryId: delivery.id,
        attempt: delivery.attempts,
        at,
        durationMs: result.durationMs,
        status: result.status,
        error: result.error,
      },
      deps.workerId,
      { status, nextAttemptAt: delay === null ? at : deps.now() + delay },
    );
    if (!ok)
      deps.log.warn(
        {
          event: 'webhook_retry',
          deliveryId: delivery.id,
          webhookId: delivery.webhookId,
          attempt: delivery.attempts,
          delayMs: delay,
          error: result.error,
        },
        status === 'failed'
          ? 'webhook delivery given up after its last attempt'
          : 'webhook not delivered; trying again later',
      );
    return ok;
  }

  return {
    /** Attempts what is due (concurrently, one request per delivery); returns how many were delivered. */
    async runOnce(): Promise<number> {
      const due = await deps.webhooks.claimDue(deps.now(), leaseMs, deps.workerId, deps.batch ?? 10);
      const results = await Promise.all(due.map(attempt));
      return results.filter(Boolean).length;
    },
  };
}
export type WebhookSender = ReturnType<typeof createWebhookSender>;
