/** The domain events not yet turned into mails and webhook deliveries, oldest first. */
import type { DomainEvent } from '../core/domain-events.js';

export interface QueuedEvent {
  id: string;
  at: number;
  event: DomainEvent;
}

export interface EventQueueRepository {
  pending(limit: number): Promise<QueuedEvent[]>;
  /** False when it was dispatched already (by another dispatcher). */
  markDispatched(id: string, at: number): Promise<boolean>;
  /** Removes events dispatched before `before`. */
  purge(before: number): Promise<number>;
}
