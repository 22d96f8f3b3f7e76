/**
 * Webhooks (admin, ops, owners for their own machines): register a URL for some events (the
 * signing secret is shown once), see each webhook's delivery log, delete one.
 */
import { api, errorText } from '../api.js';
import { field, h, notice, replace, table } from '../dom.js';
import { dateTime } from '../format.js';
import type { PageContext } from '../page.js';

const EVENTS = [
  'node.enrolled',
  'node.approved',
  'node.rejected',
  'node.revoked',
  'node.offline',
  'node.online',
  'audit.failed',
  'audit.passed',
  'statement.locked',
] as const;

interface Webhook {
  id: string;
  url: string;
  events: string[];
  ownerId: string | null;
  createdAt: string;
}

interface Delivery {
  id: string;
  event: string;
  createdAt: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
}

function secretCard(secret: string): HTMLElement {
  return h(
    'section',
    { class: 'card key-card', 'aria-labelledby': 'h-secret' },
    h('h2', { id: 'h-secret' }, 'Signing secret'),
    h('p', { class: 'key', id: 'webhook-secret' }, secret),
    notice(
      'info',
      'This secret is shown only now. Each delivery carries x-homenode-signature: sha256=<hex HMAC-SHA256 of the body> made with it; check it before you trust a delivery.',
    ),
  );
}

function outcome(d: Delivery): string {
  if (d.status === 'delivered') return `delivered (${d.lastStatus ?? ''})`;
  if (d.status === 'failed') return `failed: ${d.lastError ?? ''}`;
  return d.lastError ? `retrying at ${dateTime(d.nextAttemptAt)}: ${d.lastError}` : 'waiting';
}

async function deliveryLog(hook: Webhook, out: HTMLElement): Promise<void> {
  const { deliveries } = await api<{ deliveries: Delivery[] }>('GET', `/v1/webhooks/${hook.id}/deliveries`);
  replace(
    out,
    table(
      `Deliveries to ${hook.url}`,
      ['When', 'Event', 'Attempts', 'Outcome'],
      deliveries.map((d) => [dateTime(d.createdAt), d.event, String(d.attempts), outcome(d)]),
      'Nothing delivered yet.',
    ),
  );
}

export async function webhooksPage(ctx: PageContext): Promise<void> {
  const list = h('div');
  const status = h('div');
  const secret = h('div');
  const url = h('input', {
    type: 'url',
    name: 'url',
    required: true,
    maxlength: 2048,
    placeholder: 'https://hooks.example.com/homenode',
  });
  const boxes = EVENTS.map((event) => {
    const box = h('input', { type: 'checkbox', name: 'events', value: event, checked: true });
    return { event, box, row: h('label', { class: 'check' }, box, ` ${event}`) };
  });
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-new-webhook' },
    h('h2', { id: 'h-new-webhook' }, 'Add a webhook'),
    ctx.session.role === 'owner'
      ? h('p', { class: 'muted' }, 'You hear only of your own machines and your own earnings.')
      : null,
    field('URL', url, 'We POST JSON { id, event, at, data } to it. Redirects are not followed.'),
    h(
      'fieldset',
      null,
      h('legend', null, 'Events'),
      boxes.map((b) => h('div', null, b.row)),
    ),
    status,
    h('button', { type: 'submit' }, 'Add webhook'),
  );

  const load = async () => {
    const { webhooks } = await api<{ webhooks: Webhook[] }>('GET', '/v1/webhooks');
    const rows = webhooks.map((hook) => {
      const log = h('div');
      const show = h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          onclick: () =>
            void deliveryLog(hook, log).catch((e: unknown) => replace(log, notice('error', errorText(e)))),
        },
        'Deliveries',
      );
      const remove = h(
        'button',
        {
          type: 'button',
          class: 'danger',
          onclick: () => {
            if (!confirm(`Delete the webhook to ${hook.url}? Deliveries still waiting are dropped.`)) return;
            void api('DELETE', `/v1/webhooks/${hook.id}`)
              .then(load)
              .catch((e: unknown) => replace(status, notice('error', errorText(e))));
          },
        },
        'Delete',
      );
      return h(
        'article',
        { class: 'card' },
        h('h3', null, hook.url),
        h('p', { class: 'muted' }, `${hook.events.join(', ')} · added ${dateTime(hook.createdAt)}`),
        h('div', { class: 'row' }, show, remove),
        log,
      );
    });
    replace(list, rows.length ? rows : h('p', { class: 'empty' }, 'No webhooks yet.'));
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(status);
    const events = boxes.filter((b) => b.box.checked).map((b) => b.event);
    if (events.length === 0) {
      replace(status, notice('error', 'Choose at least one event.'));
      return;
    }
    void api<{ secret: string }>('POST', '/v1/webhooks', { url: url.value.trim(), events })
      .then((created) => {
        replace(secret, secretCard(created.secret));
        url.value = '';
        return load();
      })
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  });
  replace(ctx.root, h('h1', null, 'Webhooks'), secret, form, h('h2', null, 'Your webhooks'), list);
  await load();
}
