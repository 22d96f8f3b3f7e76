/**
 * The mail outbox: one row per mail, written in the transaction that decided to send it. A sender
 * claims due rows with a lease (so two senders, or a sender restarted after a crash, never send
 * the same row at once), sends, and marks the row sent; a failure schedules the next attempt.
 */
import type { MailParams } from './mail-params.js';
import type { MailCategory } from './preferences.js';

export interface NewMail {
  id: string;
  /** The domain event it came from; one mail per (event, address, template). */
  eventId: string;
  ownerId: string | null;
  to: string;
  template: string;
  params: MailParams;
  category: MailCategory;
  createdAt: number;
}

export interface OutboxMail extends NewMail {
  attempts: number;
}

export type MailStatus = 'queued' | 'sent' | 'failed';

export interface MailOutboxRepository {
  /** False when that mail for that event was queued already. */
  enqueue(mail: NewMail): Promise<boolean>;
  /** Atomically leases up to `limit` due rows to `worker` until `at + leaseMs`. */
  claim(at: number, leaseMs: number, worker: string, limit: number): Promise<OutboxMail[]>;
  /** Each of these only acts while `worker` holds the lease. */
  markSent(id: string, worker: string, at: number): Promise<boolean>;
  retryLater(id: string, worker: string, nextAttemptAt: number, error: string): Promise<void>;
  markFailed(id: string, worker: string, error: string): Promise<void>;
  /** Counts by status (metrics, tests). */
  counts(): Promise<Record<MailStatus, number>>;
  /** Removes sent and failed mails created before `before`. */
  purge(before: number): Promise<number>;
}
