/**
 * A machine's state in plain words for its owner (and the badge ops see). Pure: the node as the
 * API sends it and the current time in, a label, a tone and an explanation out.
 */
import { relativeTime } from './format.js';

export interface NodeLike {
  status: 'pending' | 'approved' | 'active' | 'rejected' | 'revoked';
  statusReason: string | null;
  online: boolean;
  lastSeenAt: string | null;
  flags?: readonly { message: string; resolvedAt: string | null }[];
  preflight?: readonly { id: string; status: 'pass' | 'warn' | 'fail'; summary: string; fix?: string }[];
}

export type Tone = 'ok' | 'wait' | 'warn' | 'bad' | 'off';

export interface PlainStatus {
  label: string;
  tone: Tone;
  explanation: string;
  /** What needs attention, one line each (open flags, warnings), when anything does. */
  attention: string[];
}

export function describeNode(node: NodeLike, now: number): PlainStatus {
  const attention = [
    ...(node.flags ?? []).filter((f) => f.resolvedAt === null).map((f) => f.message),
    ...(node.preflight ?? [])
      .filter((c) => c.status !== 'pass')
      .map((c) => `${c.summary}${c.fix ? ` ${c.fix}` : ''}`),
  ];
  const seen = relativeTime(node.lastSeenAt, now);
  switch (node.status) {
    case 'pending':
      return node.statusReason
        ? {
            label: 'Needs attention: approval again',
            tone: 'warn',
            explanation: `${node.statusReason} Our operations team must approve the machine again before it earns; there is nothing you need to do.`,
            attention,
          }
        : {
            label: 'Waiting for approval',
            tone: 'wait',
            explanation:
              'Our operations team checks every new machine, usually within a working day. Keep it switched on and connected.',
            attention,
          };
    case 'rejected':
      return {
        label: 'Needs attention: not approved',
        tone: 'bad',
        explanation: `The operations team did not approve this machine: ${node.statusReason ?? 'no reason was given'}. Fix what they describe, then boot the USB stick again and enter a new key.`,
        attention,
      };
    case 'revoked':
      return {
        label: 'Removed',
        tone: 'bad',
        explanation: `This machine was removed from Home Node: ${node.statusReason ?? 'no reason was given'}. Contact support if you think this is a mistake.`,
        attention,
      };
    case 'approved':
    case 'active':
      if (!node.online) {
        return {
          label: node.lastSeenAt ? `Offline since ${seen}` : 'Offline: never connected',
          tone: 'off',
          explanation: node.lastSeenAt
            ? 'We have not heard from this machine. Check that it is switched on and connected to the internet; it reconnects by itself.'
            : 'The machine was approved but has not connected yet. Switch it on; it connects by itself.',
          attention,
        };
      }
      if (attention.length > 0) {
        return {
          label: 'Online, needs attention',
          tone: 'warn',
          explanation: 'The machine is connected, but something should be looked at (below).',
          attention,
        };
      }
      return {
        label: 'Online',
        tone: 'ok',
        explanation:
          node.status === 'active'
            ? 'Connected and available for work.'
            : 'Connected and approved; it is joining the cluster.',
        attention,
      };
  }
}

/**
 * Why "Open terminal" would not work on this machine now, or null when it would. Offered only when
 * it can work: the server opens a shell only to a connected node whose agent serves shells (409
 * `NODE_OFFLINE`, 403 `SHELL_DISABLED` otherwise), and ops open shells only on machines the
 * platform has approved (a pending machine is judged from its checks, not from a shell on it).
 */
export function shellUnavailableReason(
  node: Pick<NodeLike, 'status' | 'online'> & { shellEnabled: boolean },
): string | null {
  if (node.status === 'pending') return 'Remote shells open once the machine is approved.';
  if (node.status === 'rejected' || node.status === 'revoked')
    return `The machine is ${node.status}: no remote shell.`;
  if (!node.online) return 'The machine is offline: a remote shell opens once it is connected again.';
  if (!node.shellEnabled)
    return "Remote shells are turned off in this machine's agent configuration (remoteShell): turn them on there to open one.";
  return null;
}
