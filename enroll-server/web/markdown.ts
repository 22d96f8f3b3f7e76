/**
 * The small part of Markdown our guides use, to HTML, for pages served with the dashboard (the
 * build renders `docs/troubleshooting.md` to `/docs/troubleshooting`): headings (a `##` heading
 * gets its text as its anchor, so `#gpu` reaches the `gpu` check), paragraphs, numbered and bulleted
 * lists with continued lines, rules, and inline `code`, **bold**, _emphasis_ and [links](…).
 * Everything is escaped first; links keep only http(s), relative and `#` targets. Pure.
 */

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** A heading's anchor: lower case, letters, digits and dashes. */
export function anchorOf(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

const SAFE_HREF = /^(https?:\/\/|\/|#|\.{0,2}\/|[a-z0-9][a-z0-9._/-]*(#[a-z0-9-]+)?$)/i;

function inline(text: string): string {
  // Code spans first, so that nothing inside them is read as Markdown.
  return text
    .split(/(`[^`]+`)/)
    .map((part) => {
      if (part.startsWith('`') && part.endsWith('`') && part.length > 1)
        return `<code>${escapeHtml(part.slice(1, -1))}</code>`;
      return escapeHtml(part)
        .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
        .replace(/(^|[\s(])_(.+?)_(?=$|[\s.,:;)!?])/g, '$1<em>$2</em>')
        .replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (whole, label: string, href: string) =>
          SAFE_HREF.test(href) && !/^javascript:/i.test(href) ? `<a href="${href}">${label}</a>` : whole,
        );
    })
    .join('');
}

type Block =
  | { kind: 'heading'; level: number; text: string }
  | { kind: 'paragraph'; lines: string[] }
  | { kind: 'list'; ordered: boolean; items: string[][] }
  | { kind: 'rule' };

const LIST_ITEM = /^(\d+\.|[-*])\s+(.*)$/;

function blocks(markdown: string): Block[] {
  const out: Block[] = [];
  let current: Block | undefined;
  const close = () => {
    if (current) out.push(current);
    current = undefined;
  };
  for (const raw of markdown.split('\n')) {
    const line = raw.replace(/\s+$/, '');
    if (line === '') {
      close();
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      close();
      out.push({ kind: 'heading', level: heading[1]?.length ?? 1, text: heading[2] ?? '' });
      continue;
    }
    if (/^(-{3,}|\*{3,})$/.test(line)) {
      close();
      out.push({ kind: 'rule' });
      continue;
    }
    const item = LIST_ITEM.exec(line);
    if (item) {
      const ordered = /^\d/.test(item[1] ?? '');
      if (current?.kind !== 'list' || current.ordered !== ordered) {
        close();
        current = { kind: 'list', ordered, items: [] };
      }
      current.items.push([item[2] ?? '']);
      continue;
    }
    if (current?.kind === 'list' && /^\s+/.test(raw)) {
      current.items.at(-1)?.push(line.trim());
      continue;
    }
    if (current?.kind !== 'paragraph') {
      close();
      current = { kind: 'paragraph', lines: [] };
    }
    current.lines.push(line.trim());
  }
  close();
  return out;
}

/** The guide's body as HTML, and its first heading (the page's title). */
export function renderMarkdown(markdown: string): { html: string; title: string } {
  let title = '';
  const html = blocks(markdown)
    .map((b) => {
      switch (b.kind) {
        case 'heading': {
          if (!title) title = b.text;
          const id = anchorOf(b.text);
          return `<h${b.level} id="${id}">${inline(b.text)}</h${b.level}>`;
        }
        case 'paragraph':
          return `<p>${inline(b.lines.join(' '))}</p>`;
        case 'rule':
          return '<hr>';
        case 'list': {
          const tag = b.ordered ? 'ol' : 'ul';
          return `<${tag}>${b.items.map((i) => `<li>${inline(i.join(' '))}</li>`).join('')}</${tag}>`;
        }
      }
    })
    .join('\n');
  return { html, title };
}

/** A whole page under the dashboard's stylesheet (no scripts: nothing inline, CSP-clean). */
export function guidePage(markdown: string, stylesheet: string): string {
  const { html, title } = renderMarkdown(markdown);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)} · Home Node</title>`,
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="${escapeHtml(stylesheet)}">`,
    '</head>',
    '<body>',
    '<main class="guide">',
    '<p><a href="/machines">← Back to your machines</a></p>',
    html,
    '</main>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
