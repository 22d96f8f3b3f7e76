/** Ops: the queue of machines waiting for approval, with what their checks found. */
import { api, errorText } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import { relativeTime } from '../format.js';
import { checksTable, hardwareSummary } from '../hardware.js';
import type { PageContext } from '../page.js';
import type { OwnerView } from '../../accounts/schemas.js';
import type { NodeDetailView, NodeSummaryView } from '../../nodes/schemas.js';

function pendingCard(
  node: NodeDetailView,
  owner: string,
  ctx: PageContext,
  reload: () => Promise<void>,
): HTMLElement {
  const status = h('div');
  const reason = h('textarea', { name: 'reason', rows: 2, required: true, maxlength: 2000 });
  const rejectForm = h(
    'form',
    { class: 'reject', hidden: true },
    field('Reason (shown on the machine’s screen)', reason),
    h('button', { type: 'submit', class: 'danger' }, 'Reject machine'),
  );
  const act = (path: string, body: unknown, done: string) => {
    void api('POST', `/v1/nodes/${node.id}/${path}`, body)
      .then(() => reload())
      .then(() => ctx.root.querySelector('#queue-status')?.replaceChildren(notice('ok', done)))
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  };
  rejectForm.addEventListener('submit', (e) => {
    e.preventDefault();
    act('reject', { reason: reason.value.trim() }, `${node.id} rejected.`);
  });
  const problems = node.preflight.filter((c) => c.status !== 'pass').length;
  const flags = node.flags.filter((f) => f.resolvedAt === null);
  return h(
    'article',
    { class: 'card', 'aria-labelledby': `p-${node.id}` },
    h('h2', { id: `p-${node.id}` }, h('a', { href: `/nodes/${node.id}` }, node.id)),
    h('p', null, hardwareSummary(node)),
    h(
      'p',
      { class: 'muted' },
      `Owner ${owner} · enrolled ${relativeTime(node.enrolledAt, ctx.now())} · ${node.online ? 'online' : 'offline'}`,
    ),
    node.statusReason && notice('info', node.statusReason),
    flags.map((f) => notice('error', f.message)),
    h('h3', null, problems ? `Checks that failed or warned (${problems})` : 'Checks'),
    checksTable(node, true),
    status,
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', onclick: () => act('approve', {}, `${node.id} approved.`) }, 'Approve'),
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'aria-expanded': 'false',
          onclick: (e: Event) => {
            rejectForm.hidden = !rejectForm.hidden;
            (e.currentTarget as HTMLElement).setAttribute('aria-expanded', String(!rejectForm.hidden));
            if (!rejectForm.hidden) reason.focus();
          },
        },
        'Reject…',
      ),
    ),
    rejectForm,
  );
}

export async function pendingPage(ctx: PageContext): Promise<void> {
  const list = h('div', { class: 'cards' });
  replace(ctx.root, h('h1', null, 'Machines waiting for approval'), h('div', { id: 'queue-status' }), list);
  const owners = new Map<string, string>();
  const reload = async () => {
    const [pending, ownerList] = await Promise.all([
      api<{ nodes: NodeSummaryView[] }>('GET', '/v1/nodes?status=pending&limit=200'),
      api<{ owners: OwnerView[] }>('GET', '/v1/owners?limit=1000'),
    ]);
    for (const o of ownerList.owners) owners.set(o.id, o.email);
    const details = await Promise.all(
      pending.nodes.map((n) => api<NodeDetailView>('GET', `/v1/nodes/${n.id}`)),
    );
    replace(
      list,
      details.length
        ? details.map((d) => pendingCard(d, owners.get(d.ownerId) ?? d.ownerId, ctx, reload))
        : h('p', { class: 'empty' }, 'No machines are waiting. New enrollments appear here by themselves.'),
    );
  };
  await reload();
  const timer = setInterval(() => {
    if (!list.contains(document.activeElement)) void reload().catch(() => undefined);
  }, 10_000);
  ctx.onLeave(() => clearInterval(timer));
}
