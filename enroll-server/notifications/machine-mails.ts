/** Mails to an owner about their machines and earnings: what happened and what to do. Pure. */
import type { AuditEvent, FailedCheck, NodeEvent, StatementLockedEvent } from '../core/domain-events.js';
import { duration, usd, utcDate, utcTime } from './mail-format.js';
import type { MailBody, MailContext, MailParams } from './mail-params.js';

/** The troubleshooting guide's page for a check: absolute as given, or on this server. */
export function guideUrl(publicUrl: string, check: FailedCheck): string {
  if (/^https?:\/\//.test(check.docUrl)) return check.docUrl;
  if (check.docUrl.startsWith('/')) return `${publicUrl}${check.docUrl}`;
  return `${publicUrl}/docs/troubleshooting#${encodeURIComponent(check.id)}`;
}

/** A sentence ends with a full stop. */
const sentence = (text: string) => (/[.!?]$/.test(text.trim()) ? text.trim() : `${text.trim()}.`);

export function machineMail(
  event: Exclude<NodeEvent, { type: 'node.enrolled' }>,
  ctx: MailContext,
): MailBody {
  const page = `${ctx.publicUrl}/nodes/${event.nodeId}`;
  const button = { button: { label: 'Open the machine’s page', url: page } };
  const node = `'${event.nodeId}'`;
  switch (event.type) {
    case 'node.approved':
      return {
        subject: `Your machine ${event.nodeId} is approved`,
        blocks: [
          {
            p: `Your machine ${node} was approved. It now joins the cluster and is paid for every minute it is on, connected and passing its checks.`,
          },
          ...(event.note ? [{ p: 'A note from the operations team:' }, { quote: event.note }] : []),
          { p: 'Keep it switched on and connected to your router. You can follow it on its page:' },
          button,
        ],
      };
    case 'node.rejected':
      return {
        subject: `Your machine ${event.nodeId} was not approved`,
        blocks: [
          { p: `Our operations team did not approve your machine ${node}. The reason they gave:` },
          { quote: event.reason },
          {
            p: 'What to do: fix what the reason names, then start the machine from the Home Node USB stick again with a new installation key. If the reason is unclear, contact your Home Node operator and quote the machine id.',
          },
          button,
        ],
      };
    case 'node.revoked':
      return {
        subject: `Your machine ${event.nodeId} was removed from Home Node`,
        blocks: [
          {
            p: `Your machine ${node} was revoked: it no longer earns and cannot connect again. The reason given:`,
          },
          { quote: event.reason },
          {
            p: 'Earnings up to now stay yours and appear on your statements. If you think this is a mistake, contact your Home Node operator and quote the machine id.',
          },
        ],
      };
    case 'node.offline':
      return {
        subject: `Your machine ${event.nodeId} is offline`,
        blocks: [
          {
            p: `Your machine ${node} has been offline since ${utcTime(event.since)}. Check that it is on and connected; it will be paid again from the minute it is back.`,
          },
          {
            steps: [
              'Check that the machine is switched on and its screen shows Home Node.',
              'Check the network cable and that your router is online (other devices can reach the internet).',
              'If it still does not connect, restart the machine; it reconnects by itself.',
            ],
          },
          button,
        ],
      };
    case 'node.online':
      return {
        subject: `Your machine ${event.nodeId} is back online`,
        blocks: [
          {
            p: `Your machine ${node} is connected again since ${utcTime(event.backAt)}, after ${duration(event.backAt - event.offlineSince)} offline. It is paid again from that minute.`,
          },
          button,
        ],
      };
  }
}

export function auditMail(event: AuditEvent, ctx: MailContext): MailBody {
  const page = `${ctx.publicUrl}/nodes/${event.nodeId}`;
  if (event.type === 'audit.passed') {
    return {
      subject: `Your machine ${event.nodeId} passed its check again`,
      blocks: [
        {
          p: `Your machine '${event.nodeId}' passed its regular check again. Its available time is paid again from now on. Thank you for fixing it.`,
        },
        { button: { label: 'Open the machine’s page', url: page } },
      ],
    };
  }
  const names = event.failedChecks.map((c) => c.id).join(', ');
  return {
    subject: `Your machine ${event.nodeId} failed its check${names ? `: ${names}` : ''}`,
    blocks: [
      {
        p: `Our regular check of your machine '${event.nodeId}' found a problem. Until it passes again, its available time is not paid (after a short grace period); work it has already done is paid as always.`,
      },
      {
        list: event.failedChecks.map(
          (c) => `${sentence(c.summary)} What to do: ${sentence(c.fix)} Guide: ${guideUrl(ctx.publicUrl, c)}`,
        ),
      },
      {
        p: 'We check the machine again by itself. Once you have fixed it, you can also ask for a check on its page:',
      },
      { button: { label: 'Open the machine’s page', url: page } },
    ],
  };
}

export function statementMail(event: StatementLockedEvent, params: MailParams, ctx: MailContext): MailBody {
  const total = usd(params.share?.totalUusd ?? '0');
  const machines = params.share?.nodeIds.length ?? 0;
  const period = `${utcDate(event.start)} to ${utcDate(event.end - 1)}`;
  return {
    subject: `Your Home Node statement for ${period}: ${total}`,
    blocks: [
      {
        p: `The statement for ${period} is final. Your ${machines === 1 ? 'machine' : `${machines} machines`} earned ${total} in that period.`,
      },
      { p: 'The statement does not change any more; corrections, if any, appear in a later period.' },
      { button: { label: 'See your earnings', url: `${ctx.publicUrl}/earnings` } },
    ],
  };
}
