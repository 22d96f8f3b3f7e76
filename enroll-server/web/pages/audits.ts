/** Ops: the fleet's audit states and the checks failing machines fail, the most machines first. */
import type { AuditSummaryView } from '../../audits/schemas.js';
import { api } from '../api.js';
import { h, replace, table } from '../dom.js';
import type { PageContext } from '../page.js';

export async function auditsPage(ctx: PageContext): Promise<void> {
  const summary = await api<AuditSummaryView>('GET', '/v1/audits/summary');
  const { states } = summary;
  const link = (state: string, label: string, count: number) =>
    h('li', null, h('a', { href: `/fleet?audit=${state}` }, `${count} ${label}`));
  replace(
    ctx.root,
    h('h1', null, 'Audits'),
    h(
      'p',
      { class: 'muted' },
      `${summary.running} running and ${summary.queued} waiting; at most ${summary.maxConcurrent} run at once across the fleet.`,
    ),
    h(
      'ul',
      { class: 'audit-states' },
      link('failing', 'failing', states.failing),
      link('stale', 'stale (no passing audit recently)', states.stale),
      link('passing', 'passing', states.passing),
      link('never', 'not audited yet', states.never),
    ),
    h('h2', null, 'Failing checks'),
    table(
      'Failing checks across the fleet, the most machines first',
      ['Check', 'Machines', 'What they report'],
      summary.failingChecks.map((c) => [
        h('a', { href: `/docs/troubleshooting#${c.id}` }, c.id),
        String(c.nodes),
        h(
          'ul',
          null,
          c.summaries.map((s) => h('li', null, `${s.summary} (${s.nodes})`)),
        ),
      ]),
      'No machine fails a check.',
    ),
  );
}
