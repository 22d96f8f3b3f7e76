/**
 * The activity log: who did what, and when (ops' actions, enrollments, sign-ins, system events).
 * Served by `GET /v1/audit`; in code it is the *activity log*, so that "audit" can mean the
 * continuous hardware audits. Entries are only ever added.
 */
export type ActorType = 'token' | 'key' | 'node' | 'system';

export interface Actor {
  type: ActorType;
  id: string | null;
  role?: string | null;
}

export interface ActivityEntry {
  id: number;
  at: number;
  actor: Actor;
  action: string;
  targetType: string | null;
  targetId: string | null;
  details: unknown;
}

export interface ActivityFilter {
  targetType?: string;
  targetId?: string;
  action?: string;
  /** Entries with an id below this (paging, newest first). */
  before?: number;
  limit: number;
}

export interface ActivityLog {
  record(
    at: number,
    actor: Actor,
    action: string,
    target?: { type: string; id: string },
    details?: unknown,
  ): Promise<void>;
  /** Newest first. */
  list(filter: ActivityFilter): Promise<ActivityEntry[]>;
}
