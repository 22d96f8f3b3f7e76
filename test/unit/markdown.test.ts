/**
 * The guide renderer (`enroll-server/web/markdown.ts`): the real docs/troubleshooting.md has an
 * anchor for every audit check, text is escaped, and links keep only safe targets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { guidePage, renderMarkdown } from '../../enroll-server/web/markdown.js';
import { AUDIT_CHECK_IDS } from '../../protocol/audit.js';

const GUIDE = readFileSync(join(import.meta.dirname, '../../docs/troubleshooting.md'), 'utf8');

describe('rendering the troubleshooting guide', () => {
  it('gives every audit check its anchor, in a page without scripts', () => {
    const page = guidePage(GUIDE, '/assets/style-X.css');
    for (const id of AUDIT_CHECK_IDS) expect(page).toContain(`<h2 id="${id}">${id}</h2>`);
    expect(page).toContain('<title>Troubleshooting your Home Node machine · Home Node</title>');
    expect(page).toContain('<link rel="stylesheet" href="/assets/style-X.css">');
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<[a-z]+[^>]*\s(on[a-z]+|style)=/i);
  });

  it('renders paragraphs, numbered items with their continued lines, bold, emphasis and code', () => {
    const { html } = renderMarkdown(
      '## gpu\n\n**What.** A\nB.\n\n1. _"no GPU"_: press the card\n   into its slot.\n2. Run `nvidia-smi`.\n\n---\n',
    );
    expect(html).toBe(
      [
        '<h2 id="gpu">gpu</h2>',
        '<p><strong>What.</strong> A B.</p>',
        '<ol><li><em>&quot;no GPU&quot;</em>: press the card into its slot.</li><li>Run <code>nvidia-smi</code>.</li></ol>',
        '<hr>',
      ].join('\n'),
    );
  });

  it('escapes markup and drops links to scripts', () => {
    const { html } = renderMarkdown(
      '<script>alert(1)</script> `<b>` [ok](https://example.org/a) [bad](javascript:alert(1)) [rel](docs/audits.md#server)',
    );
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<code>&lt;b&gt;</code>');
    expect(html).toContain('<a href="https://example.org/a">ok</a>');
    expect(html).toContain('[bad](javascript:alert(1))');
    expect(html).not.toContain('href="javascript');
    expect(html).toContain('<a href="docs/audits.md#server">rel</a>');
  });
});
