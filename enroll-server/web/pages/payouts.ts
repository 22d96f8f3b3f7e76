/** Reviewers: payout periods (create one, open its statement). */
import { api, apiOptional, errorText } from '../api.js';
import { field, h, notice, replace, table } from '../dom.js';
import { dateTime, localInputToIso } from '../format.js';
import type { PageContext } from '../page.js';
import type { Period } from '../payout-types.js';

const STATUS: Record<Period['status'], string> = { open: 'Open', computed: 'Computed', locked: 'Locked' };

/** Minute-aligned ISO (the API refuses seconds). */
function minuteIso(local: string): string | undefined {
  const iso = localInputToIso(local);
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return new Date(ms - (ms % 60_000)).toISOString();
}

export async function payoutsPage(ctx: PageContext): Promise<void> {
  const list = h('div');
  const status = h('div');
  const start = h('input', { type: 'datetime-local', name: 'start', required: true, step: 60 });
  const end = h('input', { type: 'datetime-local', name: 'end', required: true, step: 60 });
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-new-period' },
    h('h2', { id: 'h-new-period' }, 'New period'),
    field('Start', start, 'Your local time, to the minute.'),
    field('End', end),
    status,
    h('button', { type: 'submit' }, 'Create period'),
  );
  const load = async () => {
    const data = await apiOptional<{ periods: Period[] }>('/v1/payout-periods');
    if (!data) {
      replace(list, notice('info', 'Payouts are not available on this server yet.'));
      form.hidden = true;
      return;
    }
    const periods = [...data.periods].sort((a, b) => Date.parse(b.start) - Date.parse(a.start));
    replace(
      list,
      table(
        'Payout periods',
        ['Period', 'Status', 'Rate card', 'Computed', 'Locked', ''],
        periods.map((p) => [
          `${dateTime(p.start)} – ${dateTime(p.end)}`,
          h('span', { class: `badge period-${p.status}` }, STATUS[p.status]),
          p.rateCardVersion === null ? '—' : `v${p.rateCardVersion}`,
          dateTime(p.computedAt),
          dateTime(p.lockedAt),
          h(
            'a',
            { href: `/payouts/${p.id}`, 'aria-label': `Open statement for ${dateTime(p.start)}` },
            'Statement',
          ),
        ]),
        'No periods yet. Create the first one below.',
      ),
    );
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void api<Period>('POST', '/v1/payout-periods', {
      start: minuteIso(start.value),
      end: minuteIso(end.value),
    })
      .then((p) => ctx.navigate(`/payouts/${p.id}`))
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  });
  replace(ctx.root, h('h1', null, 'Payout periods'), list, form);
  await load();
}
