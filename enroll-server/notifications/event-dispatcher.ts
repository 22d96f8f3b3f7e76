/**
 * Turns each domain event into the mails and webhook deliveries it calls for, once: in one
 * transaction per event, the outbox rows and delivery rows are written and the event is marked
 * dispatched. Owners hear only at a confirmed address and only what they chose; mails about the
 * account itself always go; ops notices go to HOMENODE_OPS_EMAIL unless unsubscribed.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { EmailLinkRepository } from '../accounts/email-link-repository.js';
import type { OwnerRepository } from '../accounts/owner-repository.js';
import type { DomainEvent } from '../core/domain-events.js';
import { newId } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { EventQueueRepository, QueuedEvent } from './event-queue-repository.js';
import type { MailOutboxRepository, NewMail } from './mail-outbox-repository.js';
import type { PreferenceRepository } from './preference-repository.js';
import { kindOf, withDefaults } from './preferences.js';
import { isWebhookDomainEvent, webhookBody, webhookData } from './webhook-payload.js';
import type { WebhookRepository } from './webhook-repository.js';

type Repos = {
  eventQueue: EventQueueRepository;
  mailOutbox: MailOutboxRepository;
  preferences: PreferenceRepository;
  webhooks: WebhookRepository;
  owners: OwnerRepository;
  emailLinks: EmailLinkRepository;
};

export interface DispatcherDeps {
  repos: Transactional<Repos>;
  opsEmails: readonly string[];
  now: () => number;
  log: FastifyBaseLogger;
  batch?: number;
}

/** The owners an event's mail goes to (with their part of a statement). */
function ownersOf(
  event: DomainEvent,
): { ownerId: string; share?: { ownerId: string; totalUusd: string; nodeIds: string[] } }[] {
  if (event.type === 'statement.locked')
    return event.owners.map((share) => ({ ownerId: share.ownerId, share }));
  if ('ownerId' in event) return [{ ownerId: event.ownerId }];
  return [];
}

async function mailsFor(
  tx: Repos,
  queued: QueuedEvent,
  opsEmails: readonly string[],
): Promise<Omit<NewMail, 'id'>[]> {
  const { event } = queued;
  const base = { eventId: queued.id, template: event.type, createdAt: queued.at };
  if (event.type.startsWith('ops.')) {
    const out: Omit<NewMail, 'id'>[] = [];
    for (const address of opsEmails) {
      if (await tx.preferences.isSuppressed(address, 'ops')) continue;
      out.push({
        ...base,
        ownerId: null,
        to: address,
        category: 'ops',
        params: { event, name: '', email: address },
      });
    }
    return out;
  }
  const account = event.type.startsWith('account.');
  const kind = kindOf(event.type);
  if (!account && !kind) return [];
  const out: Omit<NewMail, 'id'>[] = [];
  for (const { ownerId, share } of ownersOf(event)) {
    const owner = await tx.owners.get(ownerId);
    if (!owner) continue;
    if (kind) {
      // Notices go only to a confirmed address, and only when the owner wants them.
      if ((await tx.emailLinks.verifiedAt(ownerId)) === null) continue;
      if (!withDefaults(await tx.preferences.get(ownerId)).choices[kind]) continue;
    }
    out.push({
      ...base,
      ownerId,
      to: owner.email,
      category: kind ?? 'account',
      params: { event, name: owner.name, email: owner.email, ...(share ? { share } : {}) },
    });
  }
  return out;
}

export function createEventDispatcher({ repos, opsEmails, now, log, batch = 50 }: DispatcherDeps) {
  async function dispatch(queued: QueuedEvent): Promise<void> {
    const at = now();
    await repos.transaction(async (tx) => {
      if (!(await tx.eventQueue.markDispatched(queued.id, at))) return;
      for (const mail of await mailsFor(tx, queued, opsEmails))
        await tx.mailOutbox.enqueue({ ...mail, id: newId('mail') });
      const { event } = queued;
      if (!isWebhookDomainEvent(event)) return;
      for (const hook of await tx.webhooks.subscribers(event.type)) {
        const data = webhookData(event, hook.ownerId);
        if (!data) continue;
        await tx.webhooks.addDelivery({
          id: newId('whd'),
          webhookId: hook.id,
          eventId: queued.id,
          event: event.type,
          body: webhookBody(queued.id, event, queued.at, data),
          createdAt: at,
        });
      }
    });
  }

  return {
    /** Dispatches the pending events; returns how many. */
    async runOnce(): Promise<number> {
      const pending = await repos.eventQueue.pending(batch);
      for (const queued of pending) {
        try {
          await dispatch(queued);
        } catch (error) {
          log.error(
            { err: error, event: 'dispatch_failed', eventId: queued.id, type: queued.event.type },
            'event not dispatched',
          );
          throw error;
        }
      }
      return pending.length;
    },
  };
}
export type EventDispatcher = ReturnType<typeof createEventDispatcher>;
