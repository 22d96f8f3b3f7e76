/** Owner: my machines with their status in plain words, and my installation keys. */
import { api, errorText } from '../api.js';
import { h, notice, replace, table } from '../dom.js';
import { dateTime, percent, relativeTime } from '../format.js';
import type { PageContext } from '../page.js';
import { describeNode } from '../status.js';
import type { KeyView } from '../../enrollment/schemas.js';
import type { NodeDetailView, NodeSummaryView } from '../../nodes/schemas.js';

const KEY_STATE: Record<KeyView['state'], string> = {
  active: 'Active',
  expired: 'Expired',
  used: 'Used up',
  revoked: 'Revoked',
};

function machineCard(node: NodeDetailView, now: number): HTMLElement {
  const plain = describeNode(node, now);
  const gpu =
    node.gpus.map((g) => `${g.count} × ${g.model.toUpperCase()} ${g.memory}`).join(', ') || 'no GPU found';
  return h(
    'article',
    { class: `card machine tone-${plain.tone}`, 'aria-labelledby': `m-${node.id}` },
    h(
      'h3',
      { id: `m-${node.id}` },
      h('a', { href: `/nodes/${node.id}` }, node.hardware.cpu.model || node.id),
    ),
    h('p', { class: 'muted' }, `${gpu} · ${node.id}`),
    h('p', { class: `badge tone-${plain.tone}` }, plain.label),
    h('p', null, plain.explanation),
    plain.attention.length > 0 &&
      h(
        'div',
        null,
        h('h4', null, 'What needs attention'),
        h(
          'ul',
          null,
          plain.attention.map((a) => h('li', null, a)),
        ),
      ),
    h(
      'p',
      { class: 'muted' },
      `Enrolled ${dateTime(node.enrolledAt)} · last seen ${relativeTime(node.lastSeenAt, now)} · online ${percent(node.uptime.last7d)} of the last 7 days`,
    ),
  );
}

export async function machinesPage(ctx: PageContext): Promise<void> {
  const machines = h('div', { class: 'cards' }, h('p', null, 'Loading…'));
  const keys = h('div', null, h('p', null, 'Loading…'));
  const status = h('div');
  replace(
    ctx.root,
    h(
      'div',
      { class: 'page-head' },
      h('h1', null, 'My machines'),
      h('a', { href: '/machines/add', class: 'button' }, 'Add a machine'),
    ),
    status,
    machines,
    h('h2', null, 'My installation keys'),
    keys,
  );

  const loadKeys = async () => {
    const list = await api<{ keys: KeyView[] }>('GET', '/v1/keys');
    replace(
      keys,
      table(
        'My installation keys',
        ['Key', 'Name', 'Expires', 'Uses', 'State', ''],
        list.keys.map((k) => [
          h('code', null, k.masked),
          k.label ?? '—',
          dateTime(k.expiresAt),
          `${k.uses} of ${k.maxUses}`,
          KEY_STATE[k.state],
          k.state === 'active'
            ? h(
                'button',
                {
                  type: 'button',
                  class: 'secondary',
                  'aria-label': `Revoke key ${k.masked}`,
                  onclick: () => {
                    void api('DELETE', `/v1/keys/${k.id}`)
                      .then(loadKeys)
                      .then(() =>
                        replace(
                          status,
                          notice('ok', `Key ${k.masked} revoked; it can no longer enroll a machine.`),
                        ),
                      )
                      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
                  },
                },
                'Revoke',
              )
            : '',
        ]),
        'You have no installation keys yet. "Add a machine" creates one.',
      ),
    );
  };

  const loadMachines = async () => {
    const list = await api<{ nodes: NodeSummaryView[] }>('GET', '/v1/nodes?limit=200');
    const details = await Promise.all(list.nodes.map((n) => api<NodeDetailView>('GET', `/v1/nodes/${n.id}`)));
    replace(
      machines,
      details.length
        ? details.map((d) => machineCard(d, ctx.now()))
        : h('p', { class: 'empty' }, 'No machines yet. Click "Add a machine" to get an installation key.'),
    );
  };

  await Promise.all([loadKeys(), loadMachines()]);
  const timer = setInterval(() => void loadMachines().catch(() => undefined), 10_000);
  ctx.onLeave(() => clearInterval(timer));
}
