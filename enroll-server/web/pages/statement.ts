/** Reviewers: one period's statement — compute, lock (confirmed), download, adjustments. */
import { ApiError, api, errorText } from '../api.js';
import { type Child, field, h, notice, replace } from '../dom.js';
import { dateTime } from '../format.js';
import { formatUsd, parseUsd, sumUusd } from '../money.js';
import type { PageContext } from '../page.js';
import type { Period, Statement, StatementLine } from '../payout-types.js';

const MONEY: (keyof StatementLine & `${string}Uusd`)[] = [
  'availabilityUusd',
  'workloadUusd',
  'adjustmentsUusd',
  'totalUusd',
];

function money(v: string | bigint): HTMLElement {
  return h('td', { class: 'num', title: `${String(v)} uusd` }, formatUsd(v, 2));
}

function statementTable(statement: Statement, owners: Map<string, string>): HTMLElement {
  const byOwner = new Map<string, StatementLine[]>();
  for (const line of statement.lines) byOwner.set(line.ownerId, [...(byOwner.get(line.ownerId) ?? []), line]);
  const rows: Child[] = [];
  for (const [ownerId, lines] of [...byOwner].sort((a, b) => a[0].localeCompare(b[0]))) {
    rows.push(
      h(
        'tr',
        { class: 'group' },
        h('th', { scope: 'rowgroup', colspan: 9 }, `Owner ${owners.get(ownerId) ?? ownerId}`),
      ),
    );
    for (const l of lines) {
      rows.push(
        h(
          'tr',
          null,
          h(
            'td',
            null,
            h('a', { href: `/nodes/${l.nodeId}` }, l.nodeId),
            (l.warnings ?? []).map((w) => h('div', { class: 'check-warn' }, w)),
          ),
          h('td', null, l.gpuClass),
          h(
            'td',
            { class: 'num' },
            `${l.upMinutes} / ${l.creditedMinutes} / ${l.periodMinutes}`,
            l.unverifiedMinutes > 0 &&
              h(
                'div',
                {
                  class: 'check-warn',
                  title:
                    'Up minutes while the machine failed its audits (past the grace period): not paid for availability',
                },
                `${l.unverifiedMinutes} min unverified`,
              ),
          ),
          h('td', { class: 'num' }, String(l.workloadGpuMinutes)),
          h('td', null, l.uptimeTier),
          MONEY.map((k) => money(l[k])),
        ),
      );
    }
    rows.push(
      h(
        'tr',
        { class: 'subtotal' },
        h(
          'th',
          { scope: 'row', colspan: 5 },
          `Subtotal ${owners.get(ownerId) ?? ownerId} (${lines.length} machine${lines.length === 1 ? '' : 's'})`,
        ),
        MONEY.map((k) => money(sumUusd(lines.map((l) => l[k])))),
      ),
    );
  }
  const t = statement.totals;
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { id: 'statement' },
      h('caption', { class: 'visually-hidden' }, 'Statement'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          [
            'Machine',
            'GPU class',
            'Up / credited / period (min)',
            'Workload GPU·min',
            'Tier',
            'Availability',
            'Workload',
            'Adjustments',
            'Total',
          ].map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h('tbody', null, rows),
      h(
        'tfoot',
        null,
        h(
          'tr',
          { class: 'total' },
          h('th', { scope: 'row', colspan: 5 }, `Total (${t.nodes} machines)`),
          money(t.availabilityUusd),
          money(t.workloadUusd),
          money(t.adjustmentsUusd),
          money(t.totalUusd),
        ),
      ),
    ),
  );
}

export async function statementPage(ctx: PageContext): Promise<void> {
  const id = ctx.params.id ?? '';
  const status = h('div');
  const body = h('div');
  const owners = new Map<string, string>();
  const base = `/v1/payout-periods/${encodeURIComponent(id)}`;

  const periods = await api<{ periods: Period[] }>('GET', '/v1/payout-periods');
  const period = periods.periods.find((p) => p.id === id);
  if (!period) {
    replace(ctx.root, h('h1', null, 'Statement'), notice('error', 'This payout period does not exist.'));
    return;
  }
  const ownerList = await api<{ owners: { id: string; email: string }[] }>('GET', '/v1/owners?limit=1000');
  for (const o of ownerList.owners) owners.set(o.id, o.email);

  const run = (what: string, action: () => Promise<unknown>) => {
    replace(status, notice('info', `${what}…`));
    void action()
      .then(() => ctx.navigate(location.pathname))
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  };

  const dialog = h(
    'dialog',
    { 'aria-labelledby': 'h-lock' },
    h('h2', { id: 'h-lock' }, 'Lock this period?'),
    h(
      'p',
      null,
      'Locking makes the statement final: it cannot be recomputed or adjusted afterwards, and owners are paid from it.',
    ),
    h(
      'form',
      { method: 'dialog', class: 'row' },
      h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel'),
      h('button', { type: 'submit', value: 'lock', class: 'danger' }, 'Lock period'),
    ),
  );
  dialog.addEventListener('close', () => {
    if (dialog.returnValue === 'lock') run('Locking', () => api('POST', `${base}/lock`));
  });

  const nodeId = h('input', { type: 'text', name: 'nodeId', required: true });
  const amount = h('input', {
    type: 'text',
    name: 'amount',
    required: true,
    inputmode: 'decimal',
    placeholder: '-12.50',
  });
  const reason = h('input', { type: 'text', name: 'reason', required: true, maxlength: 2000 });
  const adjustStatus = h('div');
  const adjustForm = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-adjust' },
    h('h2', { id: 'h-adjust' }, 'Adjustment'),
    field('Machine id', nodeId),
    field('Amount in US dollars', amount, 'Negative to deduct. Up to 6 decimals.'),
    field('Reason', reason),
    adjustStatus,
    h('button', { type: 'submit' }, 'Add adjustment'),
  );
  adjustForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const uusd = parseUsd(amount.value);
    if (uusd === undefined) {
      replace(adjustStatus, notice('error', 'Write the amount in dollars, e.g. 12.50 or -3.'));
      return;
    }
    void api('POST', '/v1/adjustments', {
      nodeId: nodeId.value.trim(),
      amountUusd: uusd.toString(),
      reason: reason.value.trim(),
    })
      .then(() =>
        replace(
          adjustStatus,
          notice('ok', `Adjustment of ${formatUsd(uusd, 6)} recorded. Compute again to include it.`),
        ),
      )
      .catch((error: unknown) => replace(adjustStatus, notice('error', errorText(error))));
  });

  const locked = period.status === 'locked';
  // The server refuses to lock a period before it ends (409): say so instead of offering it.
  const lockReason = locked
    ? null
    : ctx.now() < Date.parse(period.end)
      ? `This period ends ${dateTime(period.end)}; it can be locked once it has ended.`
      : period.status === 'open'
        ? 'Compute the statement before locking it.'
        : null;
  replace(
    ctx.root,
    h('p', null, h('a', { href: '/payouts' }, '← All periods')),
    h('h1', null, `Statement ${dateTime(period.start)} – ${dateTime(period.end)}`),
    h(
      'p',
      null,
      h('span', { class: `badge period-${period.status}` }, period.status),
      period.rateCardVersion === null ? '' : ` · rate card v${period.rateCardVersion}`,
      period.hash ? h('span', null, ' · hash ', h('code', null, period.hash.slice(0, 16) + '…')) : '',
    ),
    h(
      'div',
      { class: 'row' },
      h(
        'button',
        {
          type: 'button',
          disabled: locked,
          onclick: () => run('Computing', () => api('POST', `${base}/compute`)),
        },
        'Compute',
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'danger',
          disabled: locked || lockReason !== null,
          'aria-describedby': lockReason ? 'lock-reason' : undefined,
          onclick: () => dialog.showModal(),
        },
        'Lock…',
      ),
      h('a', { class: 'button secondary', href: `${base}/export.csv`, download: '' }, 'Download CSV'),
      h('a', { class: 'button secondary', href: `${base}/export.json`, download: '' }, 'Download JSON'),
    ),
    lockReason && h('p', { id: 'lock-reason', class: 'muted' }, lockReason),
    status,
    body,
    !locked && adjustForm,
    dialog,
  );
  if (period.computedAt === null && period.status === 'open') {
    replace(body, h('p', { class: 'empty' }, 'Not computed yet. Click "Compute".'));
    return;
  }
  try {
    const statement = await api<Statement>('GET', `${base}/statement`);
    replace(
      body,
      statement.lines.length
        ? statementTable(statement, owners)
        : h('p', { class: 'empty' }, 'No lines yet: compute the period.'),
    );
  } catch (error) {
    if (error instanceof ApiError && (error.status === 404 || error.status === 409))
      replace(body, h('p', { class: 'empty' }, 'Not computed yet. Click "Compute".'));
    else throw error;
  }
}
