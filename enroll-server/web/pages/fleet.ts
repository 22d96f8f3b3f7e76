/** Ops and reviewers: every machine, filtered, sorted and searched, refreshed live every few seconds. */
import { api, errorText } from '../api.js';
import { type Child, field, h, notice, replace } from '../dom.js';
import { dateTime, percent, relativeTime } from '../format.js';
import type { PageContext } from '../page.js';
import type { OwnerView } from '../../accounts/schemas.js';
import type { NodeSummaryView } from '../../nodes/schemas.js';

const REFRESH_MS = 5_000;

type SortKey = 'id' | 'status' | 'online' | 'audit' | 'gpu' | 'agent' | 'owner' | 'uptime' | 'lastSeen';

const COLUMNS: [SortKey, string][] = [
  ['id', 'Machine'],
  ['status', 'Status'],
  ['online', 'Online'],
  ['audit', 'Checks'],
  ['gpu', 'GPU'],
  ['agent', 'Agent'],
  ['owner', 'Owner'],
  ['uptime', 'Uptime 7 days'],
  ['lastSeen', 'Last seen'],
];

const AUDIT_LABELS: Record<NodeSummaryView['audit']['state'], string> = {
  failing: 'failing',
  stale: 'stale',
  passing: 'passing',
  never: 'not yet',
};
const AUDIT_TONES = { failing: 'bad', stale: 'warn', passing: 'ok', never: 'wait' } as const;

const gpuOf = (n: NodeSummaryView) => n.gpus.map((g) => `${g.count}× ${g.model}`).join(', ') || '—';

export async function fleetPage(ctx: PageContext): Promise<void> {
  const owners = new Map<string, string>();
  let nodes: NodeSummaryView[] = [];
  let sort: { key: SortKey; dir: 1 | -1 } = { key: 'lastSeen', dir: -1 };
  const search = h('input', {
    type: 'search',
    name: 'q',
    placeholder: 'id, GPU, owner…',
    value: ctx.query.get('q') ?? '',
  });
  const status = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any'),
    ['pending', 'approved', 'active', 'rejected', 'revoked'].map((s) => h('option', { value: s }, s)),
  );
  const online = h(
    'select',
    { name: 'online' },
    h('option', { value: '' }, 'Any'),
    h('option', { value: 'true' }, 'Online'),
    h('option', { value: 'false' }, 'Offline'),
  );
  const audit = h(
    'select',
    { name: 'audit' },
    h('option', { value: '' }, 'Any'),
    h('option', { value: 'failing' }, 'Failing'),
    h('option', { value: 'stale' }, 'Stale (not passed recently)'),
    h('option', { value: 'passing' }, 'Passing'),
    h('option', { value: 'never' }, 'Not checked yet'),
  );
  // Server-side: only nodes on exactly this agent version (e.g. the one a rollout brings).
  const agentVersion = h('input', {
    type: 'search',
    name: 'agentVersion',
    placeholder: 'e.g. 0.2.0',
    value: ctx.query.get('agentVersion') ?? '',
  });
  const wanted = ctx.query.get('audit');
  if (wanted) audit.value = wanted;
  const live = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const out = h('div');
  const problems = h('div');

  const value = (n: NodeSummaryView, key: SortKey): string | number => {
    switch (key) {
      case 'id':
        return n.id;
      case 'status':
        return n.status;
      case 'online':
        return n.online ? 1 : 0;
      case 'audit':
        return n.audit.state;
      case 'gpu':
        return gpuOf(n);
      case 'agent':
        return n.agentVersion;
      case 'owner':
        return owners.get(n.ownerId) ?? n.ownerId;
      case 'uptime':
        return n.uptime.last7d;
      case 'lastSeen':
        return n.lastSeenAt ? Date.parse(n.lastSeenAt) : 0;
    }
  };

  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const shown = nodes
      .filter(
        (n) =>
          !q ||
          [n.id, gpuOf(n), owners.get(n.ownerId) ?? '', n.status].some((v) => v.toLowerCase().includes(q)),
      )
      .sort((a, b) => {
        const x = value(a, sort.key);
        const y = value(b, sort.key);
        return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
      });
    const header = COLUMNS.map(([key, label]) =>
      h(
        'th',
        {
          scope: 'col',
          'aria-sort': sort.key === key ? (sort.dir === 1 ? 'ascending' : 'descending') : null,
        },
        h(
          'button',
          {
            type: 'button',
            class: 'sort',
            onclick: () => {
              sort = { key, dir: sort.key === key ? (-sort.dir as 1 | -1) : 1 };
              draw();
            },
          },
          label,
          sort.key === key ? (sort.dir === 1 ? ' ▲' : ' ▼') : '',
        ),
      ),
    );
    const rows: Child[] = shown.map((n) =>
      h(
        'tr',
        { 'data-node': n.id },
        h('td', null, h('a', { href: `/nodes/${n.id}` }, n.id)),
        h('td', null, h('span', { class: `badge status-${n.status}` }, n.status)),
        h(
          'td',
          null,
          n.online ? h('span', { class: 'dot on' }, 'online') : h('span', { class: 'dot off' }, 'offline'),
        ),
        h(
          'td',
          null,
          h('span', { class: `badge tone-${AUDIT_TONES[n.audit.state]}` }, AUDIT_LABELS[n.audit.state]),
        ),
        h('td', null, gpuOf(n)),
        h('td', { class: 'agent-version' }, n.agentVersion),
        h('td', null, owners.get(n.ownerId) ?? n.ownerId),
        h('td', { class: 'num' }, percent(n.uptime.last7d)),
        h('td', { title: dateTime(n.lastSeenAt) }, relativeTime(n.lastSeenAt, ctx.now())),
      ),
    );
    replace(
      out,
      shown.length
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { id: 'fleet' },
              h('caption', { class: 'visually-hidden' }, 'Fleet'),
              h('thead', null, h('tr', null, header)),
              h('tbody', null, rows),
            ),
          )
        : h('p', { class: 'empty' }, 'No machines match.'),
    );
    replace(
      live,
      `${shown.length} of ${nodes.length} machines · ${nodes.filter((n) => n.online).length} online · updated ${new Date(ctx.now()).toLocaleTimeString()}`,
    );
  };

  const load = async () => {
    const params = new URLSearchParams({ limit: '1000' });
    if (status.value) params.set('status', status.value);
    if (online.value) params.set('online', online.value);
    if (audit.value) params.set('audit', audit.value);
    if (agentVersion.value.trim()) params.set('agentVersion', agentVersion.value.trim());
    const [list, ownerList] = await Promise.all([
      api<{ nodes: NodeSummaryView[] }>('GET', `/v1/nodes?${params}`),
      owners.size ? Promise.resolve(undefined) : api<{ owners: OwnerView[] }>('GET', '/v1/owners?limit=1000'),
    ]);
    for (const o of ownerList?.owners ?? []) owners.set(o.id, o.email);
    nodes = list.nodes;
    replace(problems);
    draw();
  };
  const reload = () =>
    void load().catch((error: unknown) => replace(problems, notice('error', errorText(error))));

  search.addEventListener('input', draw);
  status.addEventListener('change', reload);
  online.addEventListener('change', reload);
  audit.addEventListener('change', reload);
  agentVersion.addEventListener('change', reload);
  replace(
    ctx.root,
    h('h1', null, 'Fleet'),
    h(
      'div',
      { class: 'filters', role: 'search' },
      field('Search', search),
      field('Status', status),
      field('Connection', online),
      field('Checks', audit),
      field('Agent version', agentVersion),
    ),
    live,
    problems,
    out,
  );
  await load();
  const timer = setInterval(() => {
    owners.clear();
    reload();
  }, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
