/**
 * What a webhook receives for an event: `{ id, event, at, data }`, where `data` is what that
 * webhook may see. A staff webhook (admin, ops) hears of every machine; an owner's webhook only of
 * their own machines, and of a locked statement only their own part. Pure.
 */
import { type DomainEvent, type WebhookEventType, isWebhookEvent } from '../core/domain-events.js';

const iso = (ms: number) => new Date(ms).toISOString();

export type WebhookDomainEvent = Extract<DomainEvent, { type: WebhookEventType }>;

export function isWebhookDomainEvent(event: DomainEvent): event is WebhookDomainEvent {
  return isWebhookEvent(event.type);
}

export function webhookData(
  event: WebhookDomainEvent,
  hookOwnerId: string | null,
): Record<string, unknown> | undefined {
  switch (event.type) {
    case 'statement.locked': {
      const period = {
        periodId: event.periodId,
        start: iso(event.start),
        end: iso(event.end),
        hash: event.hash,
      };
      if (hookOwnerId === null) return { ...period, totalUusd: event.totalUusd, owners: event.owners.length };
      const share = event.owners.find((o) => o.ownerId === hookOwnerId);
      return (
        share && { ...period, ownerId: share.ownerId, totalUusd: share.totalUusd, nodeIds: share.nodeIds }
      );
    }
    case 'node.offline':
      if (hookOwnerId !== null && hookOwnerId !== event.ownerId) return undefined;
      return { nodeId: event.nodeId, ownerId: event.ownerId, since: iso(event.since) };
    case 'node.online':
      if (hookOwnerId !== null && hookOwnerId !== event.ownerId) return undefined;
      return {
        nodeId: event.nodeId,
        ownerId: event.ownerId,
        offlineSince: iso(event.offlineSince),
        backAt: iso(event.backAt),
      };
    default: {
      if (hookOwnerId !== null && hookOwnerId !== event.ownerId) return undefined;
      const { type: _type, ...data } = event;
      return data;
    }
  }
}

/** The exact bytes a delivery sends (and signs), on every attempt. */
export function webhookBody(
  eventId: string,
  event: WebhookDomainEvent,
  at: number,
  data: Record<string, unknown>,
): string {
  return JSON.stringify({ id: eventId, event: event.type, at: iso(at), data });
}
