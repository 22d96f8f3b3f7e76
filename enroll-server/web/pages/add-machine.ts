/** Owner: create an installation key, show it once with a copy button and the steps; the USB image. */
import { api, errorText } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import { dateTime } from '../format.js';
import type { PageContext } from '../page.js';
import { usbImageCard } from './usb-image.js';

interface CreatedKey {
  key: string;
  expiresAt: string;
  maxUses: number;
}

function steps(created: CreatedKey): HTMLElement {
  const copyStatus = h('span', { role: 'status', class: 'copy-status' });
  const copy = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        void navigator.clipboard
          .writeText(created.key)
          .then(() => replace(copyStatus, 'Copied.'))
          .catch(() => replace(copyStatus, 'Copy did not work here: select the key and copy it by hand.'));
      },
    },
    'Copy key',
  );
  return h(
    'section',
    { class: 'card key-card', 'aria-labelledby': 'h-key' },
    h('h2', { id: 'h-key' }, 'Your installation key'),
    h('p', { class: 'key', id: 'installation-key', 'aria-label': 'Installation key' }, created.key),
    h('div', { class: 'row' }, copy, copyStatus),
    notice(
      'info',
      `This key is shown only now. It works for ${created.maxUses} machine${created.maxUses === 1 ? '' : 's'} until ${dateTime(created.expiresAt)}.`,
    ),
    h('h3', null, 'Next steps'),
    h(
      'ol',
      { class: 'steps' },
      h(
        'li',
        null,
        'Download the Home Node USB image (',
        h('code', null, 'homenode.iso'),
        ') under "Get the USB image" on this page.',
      ),
      h(
        'li',
        null,
        'Write it to a USB stick of 4 GB or more with balenaEtcher or Rufus (this erases the stick).',
      ),
      h(
        'li',
        null,
        'Plug the stick into your GPU machine, connect it to your router with a cable, and boot from USB.',
      ),
      h(
        'li',
        null,
        'When the screen asks for it, type the key above. Dashes and upper or lower case do not matter.',
      ),
      h(
        'li',
        null,
        'Your machine then appears under ',
        h('a', { href: '/machines' }, 'My machines'),
        ', waiting for approval.',
      ),
    ),
  );
}

export function addMachinePage(ctx: PageContext): void {
  const label = h('input', {
    type: 'text',
    name: 'label',
    maxlength: 200,
    placeholder: 'e.g. Gaming PC in the study',
  });
  const uses = h('input', { type: 'number', name: 'maxUses', min: 1, max: 20, value: 1, required: true });
  const ttl = h(
    'select',
    { name: 'ttl' },
    h('option', { value: 24 }, '1 day'),
    h('option', { value: 168, selected: true }, '7 days'),
  );
  const status = h('div');
  const out = h('div');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-add' },
    h('h2', { id: 'h-add' }, 'Create an installation key'),
    field('Name for this key (optional)', label),
    field('How many machines will use it?', uses),
    field('Valid for', ttl),
    status,
    h('button', { type: 'submit' }, 'Create key'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(status);
    void api<CreatedKey>('POST', '/v1/keys', {
      maxUses: Number(uses.value),
      ttlHours: Number(ttl.value),
      ...(label.value.trim() ? { label: label.value.trim() } : {}),
    })
      .then((created) => {
        form.hidden = true;
        replace(out, steps(created));
        out.querySelector('h2')?.setAttribute('tabindex', '-1');
        (out.querySelector('h2') as HTMLElement | null)?.focus();
      })
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  });
  replace(
    ctx.root,
    h('h1', null, 'Add a machine'),
    h(
      'p',
      null,
      'An installation key connects a machine to your account. You type it once, on the machine, when it boots from our USB stick.',
    ),
    form,
    out,
    usbImageCard(),
  );
}
