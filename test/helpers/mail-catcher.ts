/**
 * A real SMTP server on loopback (the `smtp-server` package) that keeps every mail it accepts, parsed
 * into headers, plain text and HTML. `stop()` and `start()` take it down and bring it back on the
 * same port, for tests of the outbox while the mail server is away.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface CaughtMail {
  from: string;
  to: string[];
  raw: string;
  /** Header names in lower case; folded lines joined. */
  headers: Map<string, string>;
  subject: string;
  messageId: string;
  text: string;
  html: string;
}

export interface MailCatcher {
  port: number;
  url: string;
  mails: CaughtMail[];
  /** Sessions that reached the server (accepted or not). */
  connections: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The first mail (already caught or arriving within `timeoutMs`) that matches. */
  waitFor(predicate: (mail: CaughtMail) => boolean, timeoutMs?: number): Promise<CaughtMail>;
}

function headerBlock(part: string): { headers: Map<string, string>; body: string } {
  const split = part.search(/\r?\n\r?\n/);
  const head = split < 0 ? part : part.slice(0, split);
  const body = split < 0 ? '' : part.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { headers, body };
}

function decodeQuotedPrintable(text: string): string {
  const bytes: number[] = [];
  const soft = text.replace(/=\r?\n/g, '');
  for (let i = 0; i < soft.length; i += 1) {
    if (soft[i] === '=' && /^[0-9A-F]{2}$/i.test(soft.slice(i + 1, i + 3))) {
      bytes.push(parseInt(soft.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(soft[i] ?? ''));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function decodeBody(headers: Map<string, string>, body: string): string {
  const encoding = (headers.get('content-transfer-encoding') ?? '').toLowerCase();
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  if (encoding === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return body;
}

/** `=?UTF-8?Q?…?=` and `=?UTF-8?B?…?=` words in headers. */
function decodeWords(value: string): string {
  return value.replace(/=\?utf-8\?([QB])\?([^?]*)\?=\s*/gi, (_m, kind: string, text: string) =>
    kind.toUpperCase() === 'B'
      ? Buffer.from(text, 'base64').toString('utf8')
      : decodeQuotedPrintable(text.replace(/_/g, ' ')),
  );
}

/** The text/plain and text/html parts of a (possibly multipart) message. */
function parts(headers: Map<string, string>, body: string): { text: string; html: string } {
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const out = { text: '', html: '' };
    for (const chunk of body.split(`--${boundary}`).slice(1)) {
      if (chunk.startsWith('--')) break;
      const inner = headerBlock(chunk.replace(/^\r?\n/, ''));
      const found = parts(inner.headers, inner.body);
      out.text ||= found.text;
      out.html ||= found.html;
    }
    return out;
  }
  const decoded = decodeBody(headers, body);
  return /^text\/html/i.test(type) ? { text: '', html: decoded } : { text: decoded, html: '' };
}

export function parseMail(raw: string, envelope: { from: string; to: string[] }): CaughtMail {
  const { headers, body } = headerBlock(raw);
  const { text, html } = parts(headers, body);
  return {
    ...envelope,
    raw,
    headers,
    subject: decodeWords(headers.get('subject') ?? ''),
    messageId: headers.get('message-id') ?? '',
    text,
    html,
  };
}

export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: CaughtMail[] = [];
  const waiters = new Set<() => void>();
  let server: SMTPServer | undefined;
  let port = 0;
  const catcher: MailCatcher = {
    port,
    url: '',
    mails,
    connections: 0,
    async start() {
      server = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS', 'AUTH'],
        logger: false,
        onConnect(_session, callback) {
          catcher.connections += 1;
          callback();
        },
        onData(stream, session, callback) {
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            mails.push(
              parseMail(Buffer.concat(chunks).toString('utf8'), {
                from,
                to: session.envelope.rcptTo.map((r) => r.address),
              }),
            );
            for (const wake of waiters) wake();
            callback();
          });
        },
      });
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      const address = s.server.address();
      if (!address || typeof address === 'string') throw new Error('the mail catcher has no TCP address');
      port = address.port;
      catcher.port = port;
      catcher.url = `smtp://127.0.0.1:${port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    waitFor(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = mails.find(predicate);
          if (!found) return false;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve(found);
          return true;
        };
        const wake = () => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `no matching mail within ${timeoutMs} ms; caught: ${mails.map((m) => `${m.to.join(',')}: ${m.subject}`).join(' | ') || 'none'}`,
            ),
          );
        }, timeoutMs);
        if (!check()) waiters.add(wake);
      });
    },
  };
  await catcher.start();
  return catcher;
}

/** The first link in the mail's text that starts with `prefix`. */
export function linkIn(mail: CaughtMail, prefix: string): string {
  const found = mail.text.split(/\s+/).find((word) => word.startsWith(prefix));
  if (!found) throw new Error(`no link starting with ${prefix} in the mail "${mail.subject}":\n${mail.text}`);
  return found.replace(/[.,)]+$/, '');
}

/** The mails the server wrote as .eml files (no SMTP server configured), parsed. */
export function mailFiles(dir: string): CaughtMail[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.eml'));
  } catch {
    return [];
  }
  return names.map((n) => {
    const mail = parseMail(readFileSync(join(dir, n), 'utf8'), { from: '', to: [] });
    return { ...mail, to: [mail.headers.get('to') ?? ''] };
  });
}
