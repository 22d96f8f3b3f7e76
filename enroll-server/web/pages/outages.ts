/** Ops: outage windows (platform-side outages during which nodes are not penalised). */
import { api, apiOptional, errorText } from '../api.js';
import { field, h, notice, replace, table } from '../dom.js';
import { dateTime, localInputToIso } from '../format.js';
import type { PageContext } from '../page.js';
import type { Outage } from '../payout-types.js';

export async function outagesPage(ctx: PageContext): Promise<void> {
  const list = h('div');
  const status = h('div');
  const start = h('input', { type: 'datetime-local', name: 'start', required: true });
  const end = h('input', { type: 'datetime-local', name: 'end', required: true });
  const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: 2000 });
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-new-outage' },
    h('h2', { id: 'h-new-outage' }, 'Record an outage'),
    h(
      'p',
      { class: 'muted' },
      'Machines are not counted as down during a platform outage. Times are your local time.',
    ),
    field('Start', start),
    field('End', end),
    field('Reason', reason),
    status,
    h('button', { type: 'submit' }, 'Record outage'),
  );
  const load = async () => {
    const outages = await apiOptional<{ outages: Outage[] }>('/v1/outages');
    if (!outages) {
      replace(list, notice('info', 'Outage windows are not available on this server yet.'));
      return;
    }
    replace(
      list,
      table(
        'Outage windows',
        ['Start', 'End', 'Reason'],
        outages.outages.map((o) => [dateTime(o.start), dateTime(o.end), o.reason]),
        'No outages recorded.',
      ),
    );
  };
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const body = {
      start: localInputToIso(start.value),
      end: localInputToIso(end.value),
      reason: reason.value.trim(),
    };
    void api('POST', '/v1/outages', body)
      .then(load)
      .then(() => replace(status, notice('ok', 'Outage recorded.')))
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  });
  replace(ctx.root, h('h1', null, 'Outage windows'), list, form);
  await load();
}
