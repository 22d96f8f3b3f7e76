/** Owner: the account (address, how they sign in) and which notification mails they get. */
import { api, errorText } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import type { PageContext } from '../page.js';

interface Account {
  email: string;
  emailVerified: boolean;
  passwordSet: boolean;
  providers: string[];
}

type Kind =
  'nodeApproved' | 'nodeRejected' | 'nodeRevoked' | 'nodeOffline' | 'auditFailed' | 'statementLocked';

interface Preferences {
  choices: Record<Kind, boolean>;
  offlineMinutes: number;
}

const KINDS: [Kind, string][] = [
  ['nodeApproved', 'A machine is approved'],
  ['nodeRejected', 'A machine is rejected, with the reason'],
  ['nodeRevoked', 'A machine is revoked'],
  ['nodeOffline', 'A machine is offline longer than the time below, and when it is back'],
  ['auditFailed', 'A machine fails its check, what to do, and when it passes again'],
  ['statementLocked', 'A statement with my earnings is final'],
];

function accountCard(account: Account): HTMLElement {
  const ways = [account.passwordSet ? 'a password' : null, ...account.providers].filter(Boolean).join(', ');
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'h-account' },
    h('h2', { id: 'h-account' }, 'Your account'),
    h(
      'dl',
      null,
      h('dt', null, 'Email'),
      h('dd', null, `${account.email} ${account.emailVerified ? '(confirmed)' : '(not confirmed yet)'}`),
      h('dt', null, 'You sign in with'),
      h('dd', null, ways || 'a provider'),
    ),
    account.passwordSet
      ? null
      : h(
          'p',
          { class: 'muted' },
          'To also sign in with a password, use ',
          h('a', { href: '/reset-password' }, 'Forgot your password?'),
          ' with your address.',
        ),
  );
}

export async function settingsPage(ctx: PageContext): Promise<void> {
  const [account, preferences] = await Promise.all([
    api<Account>('GET', '/v1/me/account'),
    api<Preferences>('GET', '/v1/me/notifications'),
  ]);
  const boxes = KINDS.map(([kind, label]) => {
    const box = h('input', { type: 'checkbox', name: kind, checked: preferences.choices[kind] });
    return { kind, row: h('label', { class: 'check' }, box, ` ${label}`), box };
  });
  const minutes = h('input', {
    type: 'number',
    name: 'offlineMinutes',
    min: 5,
    max: 1440,
    step: 5,
    required: true,
    value: preferences.offlineMinutes,
  });
  const status = h('div');
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'h-notifications' },
    h('h2', { id: 'h-notifications' }, 'Email me when'),
    account.emailVerified
      ? null
      : notice('info', 'Mails go only to a confirmed address: open the confirmation link we sent you first.'),
    h(
      'fieldset',
      null,
      h('legend', { class: 'visually-hidden' }, 'Notifications'),
      boxes.map((b) => h('div', null, b.row)),
    ),
    field('Tell me a machine is offline after (minutes)', minutes, 'From 5 minutes to 24 hours (1440).'),
    status,
    h('button', { type: 'submit' }, 'Save'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(status);
    const choices = Object.fromEntries(boxes.map((b) => [b.kind, b.box.checked]));
    void api<Preferences>('PUT', '/v1/me/notifications', { choices, offlineMinutes: Number(minutes.value) })
      .then((saved) =>
        replace(
          status,
          notice('ok', `Saved. You hear of an offline machine after ${saved.offlineMinutes} minutes.`),
        ),
      )
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  });
  replace(ctx.root, h('h1', null, 'Settings'), h('div', { class: 'cards two' }, accountCard(account), form));
}
