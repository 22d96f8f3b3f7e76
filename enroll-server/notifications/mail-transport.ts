/**
 * Sending one mail, over SMTP with nodemailer (`HOMENODE_SMTP_URL`), or, where no mail server is
 * configured (development), as an .eml file in `<dataDir>/mail/` that a mail program can open.
 * Errors say whether trying again can help: an SMTP 5xx answer cannot, a network error can.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import nodemailer from 'nodemailer';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
  date: Date;
  headers: Record<string, string>;
}

export interface MailTransport {
  /** Where mails go, for the start-up log (never with credentials). */
  readonly description: string;
  send(mail: OutgoingMail): Promise<void>;
  close(): void;
}

export class MailSendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MailSendError';
  }
}

const toMessage = (mail: OutgoingMail) => ({
  from: mail.from,
  to: mail.to,
  subject: mail.subject,
  text: mail.text,
  html: mail.html,
  messageId: mail.messageId,
  date: mail.date,
  headers: mail.headers,
});

export function createSmtpTransport(url: string): MailTransport {
  const transport = nodemailer.createTransport({
    url,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  });
  const parsed = new URL(url);
  return {
    description: `${parsed.protocol}//${parsed.host}`,
    async send(mail) {
      try {
        await transport.sendMail(toMessage(mail));
      } catch (cause) {
        const code = (cause as { responseCode?: unknown }).responseCode;
        const permanent = typeof code === 'number' && code >= 500 && code < 600;
        throw new MailSendError(
          `the mail server ${parsed.host} did not take the mail: ${String((cause as Error).message ?? cause)}`,
          permanent,
          { cause },
        );
      }
    },
    close: () => transport.close(),
  };
}

export function createFileTransport(dir: string): MailTransport {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    description: `.eml files in ${dir}`,
    async send(mail) {
      const info = await transport.sendMail(toMessage(mail));
      const message = info.message;
      if (!Buffer.isBuffer(message)) throw new MailSendError('nodemailer gave no message', true);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const name = mail.messageId.replace(/[^\w.-]/g, '_');
      const temp = join(dir, `.${name}.tmp`);
      writeFileSync(temp, message, { mode: 0o600 });
      renameSync(temp, join(dir, `${name}.eml`));
    },
    close: () => transport.close(),
  };
}
