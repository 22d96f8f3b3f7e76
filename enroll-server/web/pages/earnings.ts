/** Owner: earnings per payout period, as a chart and a table, with the open period's estimate. */
import { apiOptional } from '../api.js';
import { h, notice, replace, table } from '../dom.js';
import { earningsChart } from '../chart.js';
import { dateOnly, dateTime, percent } from '../format.js';
import { formatUsd } from '../money.js';
import type { PageContext } from '../page.js';
import type { EarningsPeriod } from '../payout-types.js';
import { isCurrent, periodLabel } from '../periods.js';

/** Day-long or longer periods read as dates; shorter ones need the time too. */
function span(p: { start: string; end: string }): string {
  const long = Date.parse(p.end) - Date.parse(p.start) >= 86_400_000;
  return long ? `${dateOnly(p.start)} – ${dateOnly(p.end)}` : `${dateTime(p.start)} – ${dateTime(p.end)}`;
}

export async function earningsPage(ctx: PageContext): Promise<void> {
  replace(ctx.root, h('h1', null, 'Earnings'), h('p', null, 'Loading…'));
  const earnings = await apiOptional<{ periods: EarningsPeriod[] }>('/v1/earnings');
  const periods = [...(earnings?.periods ?? [])].sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  if (periods.length === 0) {
    replace(
      ctx.root,
      h('h1', null, 'Earnings'),
      notice(
        'info',
        'Your earnings appear here once your first machine is approved and a payout period has started.',
      ),
    );
    return;
  }
  const now = ctx.now();
  const open = periods.find((p) => isCurrent(p, now));
  replace(
    ctx.root,
    h('h1', null, 'Earnings'),
    open &&
      h(
        'section',
        { class: 'card highlight', 'aria-labelledby': 'h-open' },
        h('h2', { id: 'h-open' }, 'This period so far (estimate)'),
        h('p', { class: 'big' }, formatUsd(open.totalUusd)),
        h(
          'p',
          { class: 'muted' },
          `${span(open)}. The estimate grows while your machines are online; the final amount is set when the period is checked and locked.`,
        ),
      ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'h-chart' },
      h('h2', { id: 'h-chart' }, 'Per period'),
      earningsChart(
        periods
          .slice(-12)
          .map((p) => ({ label: dateOnly(p.start), uusd: BigInt(p.totalUusd), estimate: p.estimate })),
        'Earnings per period',
      ),
    ),
    table(
      'Earnings per period',
      ['Period', 'Status', 'Machines', 'Online', 'Amount'],
      [...periods].reverse().map((p) => {
        const period = p.lines.reduce((s, l) => s + l.periodMinutes, 0);
        const up = p.lines.reduce((s, l) => s + l.upMinutes, 0);
        return [
          span(p),
          periodLabel(p, now),
          String(p.lines.length),
          period ? percent(up / period) : '—',
          h('span', { class: 'num' }, formatUsd(p.totalUusd)),
        ];
      }),
    ),
  );
}
