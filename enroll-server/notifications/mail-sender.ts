/**
 * Sends the mail outbox: claims due rows with a lease, writes each mail (the same bytes on every
 * attempt: `Message-ID` is the row's id, `Date` its creation time), sends it and marks it sent.
 * While the mail server is down, rows wait with backoff; a permanent refusal (SMTP 5xx) or
 * running out of attempts marks a row failed. A row is marked sent only after the server took it,
 * and the lease keeps any other sender (or this one after a restart) off it meanwhile.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { RetryPolicy } from '../core/accounts-config.js';
import type { EmailLinkTokens } from '../accounts/email-link-tokens.js';
import { oneLine } from './mail-layout.js';
import type { MailOutboxRepository, OutboxMail } from './mail-outbox-repository.js';
import { type MailTransport, MailSendError, type OutgoingMail } from './mail-transport.js';
import { renderMail } from './render-mail.js';
import { retryDelay } from './retry-schedule.js';
import { signUnsubscribe } from './unsubscribe-token.js';

export interface MailSenderDeps {
  outbox: MailOutboxRepository;
  transport: MailTransport;
  from: string;
  publicUrl: string;
  links: EmailLinkTokens;
  unsubscribeKey: Buffer;
  retry: RetryPolicy;
  pendingMinutes: number;
  now: () => number;
  log: FastifyBaseLogger;
  workerId: string;
  /** How long a claimed row stays ours; longer than any one send can take. */
  leaseMs?: number;
  batch?: number;
}

export function createMailSender(deps: MailSenderDeps) {
  const leaseMs = deps.leaseMs ?? 5 * 60_000;
  const host = new URL(deps.publicUrl).hostname;

  /** The mail of one row: always the same for the same row. */
  function compose(mail: OutboxMail): OutgoingMail {
    const token = signUnsubscribe(deps.unsubscribeKey, mail.to, mail.category);
    const rendered = renderMail(
      mail.params,
      mail.category,
      {
        publicUrl: deps.publicUrl,
        linkUrl: (purpose, id) => deps.links.url(purpose, id),
        unsubscribeUrl: `${deps.publicUrl}/unsubscribe?token=${token}`,
        settingsUrl: `${deps.publicUrl}/settings`,
        pendingMinutes: deps.pendingMinutes,
      },
      mail.createdAt,
    );
    return {
      from: deps.from,
      to: oneLine(mail.to, 320),
      subject: rendered.subject,
      text: rendered.text,
      html: rendered.html,
      messageId: `<${mail.id}@${host}>`,
      date: new Date(mail.createdAt),
      headers: {
        'List-Unsubscribe': `<${deps.publicUrl}/v1/notifications/unsubscribe?token=${token}>`,
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
        'Auto-Submitted': 'auto-generated',
      },
    };
  }

  async function giveBack(mail: OutboxMail, error: unknown): Promise<void> {
    const permanent = error instanceof MailSendError && error.permanent;
    const message = error instanceof Error ? error.message : String(error);
    const delay = permanent ? null : retryDelay(deps.retry, mail.attempts);
    if (delay === null) {
      await deps.outbox.markFailed(mail.id, deps.workerId, message);
      deps.log.error(
        {
          event: 'mail_failed',
          mailId: mail.id,
          template: mail.template,
          attempts: mail.attempts,
          err: error,
        },
        permanent ? 'the mail server refused the mail for good' : 'mail given up after its last attempt',
      );
      return;
    }
    await deps.outbox.retryLater(mail.id, deps.workerId, deps.now() + delay, message);
    deps.log.warn(
      { event: 'mail_retry', mailId: mail.id, attempt: mail.attempts, delayMs: delay, err: error },
      'mail not sent; trying again later',
    );
  }

  return {
    /** Sends what is due; returns how many were sent. */
    async runOnce(): Promise<number> {
      const claimed = await deps.outbox.claim(deps.now(), leaseMs, deps.workerId, deps.batch ?? 20);
      let sent = 0;
      for (const [index, mail] of claimed.entries()) {
        try {
          await deps.transport.send(compose(mail));
        } catch (error) {
          await giveBack(mail, error);
          // The server is down or refusing: the rest of the batch waits too, rather than hammering it.
          if (!(error instanceof MailSendError && error.permanent)) {
            for (const rest of claimed.slice(index + 1)) await giveBack(rest, error);
            break;
          }
          continue;
        }
        await deps.outbox.markSent(mail.id, deps.workerId, deps.now());
        sent += 1;
      }
      return sent;
    },
  };
}
export type MailSender = ReturnType<typeof createMailSender>;
