/**
 * A mail as a few blocks (paragraphs, a button, steps, a list), written out twice: as plain text
 * and as simple HTML with inline styles (what mail programs show). Every value is escaped in the
 * HTML part; nothing from the network reaches it unescaped. Pure.
 */
export type Block =
  | { p: string }
  | { button: { label: string; url: string } }
  | { steps: string[] }
  | { list: string[] }
  | { quote: string };

export interface MailDocument {
  subject: string;
  greeting: string;
  blocks: Block[];
  /** Why the person gets this mail and how to stop it. */
  footer: { reason: string; unsubscribeUrl: string; settingsUrl: string | null };
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Headers take one line: control characters (a newline above all) never reach them. */
export function oneLine(text: string, max = 200): string {
  const flat = text.replace(/\p{Cc}+/gu, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function textBlock(block: Block): string {
  if ('p' in block) return block.p;
  if ('button' in block) return `${block.button.label}:\n${block.button.url}`;
  if ('quote' in block) return `  “${block.quote}”`;
  if ('steps' in block) return block.steps.map((s, i) => `${i + 1}. ${s}`).join('\n');
  return block.list.map((s) => `- ${s}`).join('\n');
}

const P = 'margin:0 0 16px;font:15px/1.5 -apple-system,Segoe UI,Roboto,sans-serif;color:#1d2530';

function htmlBlock(block: Block): string {
  if ('p' in block) return `<p style="${P}">${escapeHtml(block.p)}</p>`;
  if ('button' in block) {
    const url = escapeHtml(block.button.url);
    return (
      `<p style="${P}"><a href="${url}" style="display:inline-block;padding:10px 18px;background:#1f5fbf;color:#fff;` +
      `border-radius:6px;text-decoration:none;font-weight:600">${escapeHtml(block.button.label)}</a></p>` +
      `<p style="${P};font-size:13px;color:#4b5563">Or copy this link into your browser: ${url}</p>`
    );
  }
  if ('quote' in block)
    return `<blockquote style="${P};border-left:3px solid #c7cdd6;padding-left:12px">${escapeHtml(block.quote)}</blockquote>`;
  const tag = 'steps' in block ? 'ol' : 'ul';
  const items = 'steps' in block ? block.steps : block.list;
  return `<${tag} style="${P};padding-left:22px">${items.map((i) => `<li style="margin-bottom:6px">${escapeHtml(i)}</li>`).join('')}</${tag}>`;
}

export function renderDocument(doc: MailDocument): RenderedMail {
  const { reason, unsubscribeUrl, settingsUrl } = doc.footer;
  const stop = `Stop these mails with one click: ${unsubscribeUrl}`;
  const text = [
    doc.greeting,
    ...doc.blocks.map(textBlock),
    '— Home Node',
    ['--', reason, stop, settingsUrl ? `Choose what you hear about: ${settingsUrl}` : null]
      .filter((line) => line !== null)
      .join('\n'),
  ].join('\n\n');
  const small = 'margin:0 0 8px;font:12px/1.5 -apple-system,Segoe UI,Roboto,sans-serif;color:#6b7280';
  const html = [
    '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(doc.subject)}</title></head><body style="margin:0;padding:24px;background:#f4f6f8">`,
    '<div style="max-width:560px;margin:0 auto;background:#fff;border-radius:8px;padding:24px">',
    `<p style="${P}">${escapeHtml(doc.greeting)}</p>`,
    ...doc.blocks.map(htmlBlock),
    `<p style="${P}">— Home Node</p>`,
    '<hr style="border:0;border-top:1px solid #e5e7eb;margin:24px 0 12px">',
    `<p style="${small}">${escapeHtml(reason)}</p>`,
    `<p style="${small}"><a href="${escapeHtml(unsubscribeUrl)}" style="color:#6b7280">Stop these mails</a>`,
    settingsUrl
      ? ` · <a href="${escapeHtml(settingsUrl)}" style="color:#6b7280">Choose what you hear about</a>`
      : '',
    '</p></div></body></html>',
  ].join('');
  return { subject: oneLine(doc.subject), text: `${text}\n`, html };
}
