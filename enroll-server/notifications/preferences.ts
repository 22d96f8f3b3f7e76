/**
 * What an owner can be told, and their choices: one switch per kind of notice (all on by default)
 * and how long a machine may be offline before they hear of it (30 minutes by default). Mails about
 * the account itself (confirm the address, reset the password) are sent on the person's own
 * request and cannot be turned off. Pure.
 */
import type { DomainEventType } from '../core/domain-events.js';

export const NOTIFICATION_KINDS = [
  'nodeApproved',
  'nodeRejected',
  'nodeRevoked',
  'nodeOffline',
  'auditFailed',
  'statementLocked',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** What one-click unsubscribe turns off: a kind, every kind (from an account mail), or ops notices. */
export type MailCategory = NotificationKind | 'account' | 'ops';

export type NotificationChoices = Record<NotificationKind, boolean>;

export interface NotificationPreferences {
  choices: NotificationChoices;
  offlineMinutes: number;
}

export const OFFLINE_MINUTES = { min: 5, max: 1440, default: 30 } as const;

export const DEFAULT_PREFERENCES: NotificationPreferences = {
  choices: Object.fromEntries(NOTIFICATION_KINDS.map((k) => [k, true])) as NotificationChoices,
  offlineMinutes: OFFLINE_MINUTES.default,
};

/** Shown on the settings page and the unsubscribe page. */
export const KIND_LABELS: Record<NotificationKind, string> = {
  nodeApproved: 'A machine is approved',
  nodeRejected: 'A machine is rejected (with the reason)',
  nodeRevoked: 'A machine is revoked',
  nodeOffline: 'A machine is offline longer than my threshold, and when it is back',
  auditFailed: 'A machine fails its audit, and when it passes again',
  statementLocked: 'A statement with my earnings is locked',
};

const KIND_OF: Partial<Record<DomainEventType, NotificationKind>> = {
  'node.approved': 'nodeApproved',
  'node.rejected': 'nodeRejected',
  'node.revoked': 'nodeRevoked',
  'node.offline': 'nodeOffline',
  'node.online': 'nodeOffline',
  'audit.failed': 'auditFailed',
  'audit.passed': 'auditFailed',
  'statement.locked': 'statementLocked',
};

/** The choice that governs an owner's mail for this event, or undefined when no owner mail follows it. */
export function kindOf(type: DomainEventType): NotificationKind | undefined {
  return KIND_OF[type];
}

export function isNotificationKind(value: string): value is NotificationKind {
  return (NOTIFICATION_KINDS as readonly string[]).includes(value);
}

/** Stored choices over the defaults, so a kind added later starts switched on. */
export function withDefaults(
  stored: { choices: Partial<Record<string, boolean>>; offlineMinutes: number } | undefined,
): NotificationPreferences {
  if (!stored)
    return {
      choices: { ...DEFAULT_PREFERENCES.choices },
      offlineMinutes: DEFAULT_PREFERENCES.offlineMinutes,
    };
  const choices = { ...DEFAULT_PREFERENCES.choices };
  for (const kind of NOTIFICATION_KINDS) {
    const value = stored.choices[kind];
    if (typeof value === 'boolean') choices[kind] = value;
  }
  return { choices, offlineMinutes: stored.offlineMinutes };
}

/** What a one-click unsubscribe from a mail of this category leaves switched on. */
export function unsubscribed(
  current: NotificationPreferences,
  category: MailCategory,
): NotificationPreferences {
  const choices = { ...current.choices };
  if (category === 'account' || category === 'ops')
    for (const kind of NOTIFICATION_KINDS) choices[kind] = false;
  else choices[category] = false;
  return { ...current, choices };
}
