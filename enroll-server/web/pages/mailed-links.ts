/**
 * The pages mailed links open, whether or not anyone is signed in: confirm the address
 * (`/verify-email?token=`), reset the password (`/reset-password`, with `?token=` to set the new
 * one), and one-click unsubscribe (`/unsubscribe?token=`, which shows what stops before it stops).
 * The token is read from the address bar and sent in a POST body, never put in the page.
 */
import { api, errorText } from '../api.js';
import { field, h, notice, replace } from '../dom.js';

const PASSWORD_MIN = 10;

function busy(form: HTMLFormElement, on: boolean): void {
  const button = form.querySelector('button[type=submit]');
  if (button instanceof HTMLButtonElement) button.disabled = on;
}

export async function verifyEmailPage(
  root: HTMLElement,
  query: URLSearchParams,
  signedIn: boolean,
): Promise<void> {
  const token = query.get('token') ?? '';
  replace(root, h('h1', null, 'Confirm your email address'), notice('info', 'Confirming…'));
  try {
    const { email } = await api<{ email: string }>('POST', '/v1/auth/verify-email', { token });
    replace(
      root,
      h('h1', null, 'Your address is confirmed'),
      notice(
        'ok',
        `Thank you: ${email} is confirmed. We sent you a welcome mail with the USB image and the steps.`,
      ),
      h(
        'p',
        null,
        signedIn
          ? h('a', { href: '/machines/add', class: 'button' }, 'Add a machine')
          : h('a', { href: '/login', class: 'button' }, 'Sign in to add a machine'),
      ),
    );
  } catch (error) {
    replace(
      root,
      h('h1', null, 'Confirm your email address'),
      notice('error', errorText(error)),
      h(
        'p',
        null,
        h('a', { href: signedIn ? '/machines' : '/login' }, signedIn ? 'Back to my machines' : 'Sign in'),
      ),
    );
  }
}

function requestResetForm(root: HTMLElement): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const status = h('div');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-forgot' },
    h('h2', { id: 'h-forgot' }, 'Forgot your password?'),
    h('p', null, 'Type the address you signed up with. We mail you a link to choose a new password.'),
    field('Email', email),
    status,
    h('button', { type: 'submit' }, 'Send the link'),
    h('p', null, h('a', { href: '/login' }, 'Back to sign in')),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    busy(form, true);
    replace(status);
    void api('POST', '/v1/auth/password-reset', { email: email.value.trim() })
      .then(() =>
        replace(
          status,
          notice(
            'ok',
            `If an account exists for ${email.value.trim()}, a link is on its way. It works once, for 60 minutes. No mail after a few minutes? Look in your spam folder.`,
          ),
        ),
      )
      .catch((error: unknown) => replace(status, notice('error', errorText(error))))
      .finally(() => busy(form, false));
  });
  replace(root, h('h1', null, 'Reset your password'), form);
}

function newPasswordForm(root: HTMLElement, token: string): void {
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: PASSWORD_MIN,
  });
  const repeat = h('input', {
    type: 'password',
    name: 'repeat',
    autocomplete: 'new-password',
    required: true,
    minlength: PASSWORD_MIN,
  });
  const status = h('div');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-new-password' },
    h('h2', { id: 'h-new-password' }, 'Choose a new password'),
    field('New password', password, `At least ${PASSWORD_MIN} characters.`),
    field('New password again', repeat),
    status,
    h('button', { type: 'submit' }, 'Set the new password'),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (password.value !== repeat.value) {
      replace(status, notice('error', 'The two passwords are not the same. Type the new password twice.'));
      return;
    }
    busy(form, true);
    replace(status);
    void api('POST', '/v1/auth/password-reset/confirm', { token, password: password.value })
      .then(() => {
        form.hidden = true;
        replace(
          status,
          notice(
            'ok',
            'Your password is changed, and every other session was signed out. Sign in with the new password.',
          ),
        );
        form.after(status, h('p', null, h('a', { href: '/login', class: 'button' }, 'Sign in')));
      })
      .catch((error: unknown) => replace(status, notice('error', errorText(error))))
      .finally(() => busy(form, false));
  });
  replace(root, h('h1', null, 'Reset your password'), form);
}

export function resetPasswordPage(root: HTMLElement, query: URLSearchParams): void {
  const token = query.get('token');
  if (token) newPasswordForm(root, token);
  else requestResetForm(root);
}

interface UnsubscribeAnswer {
  address: string;
  description: string;
}

export async function unsubscribePage(root: HTMLElement, query: URLSearchParams): Promise<void> {
  const token = query.get('token') ?? '';
  const path = `/v1/notifications/unsubscribe?token=${encodeURIComponent(token)}`;
  let preview: UnsubscribeAnswer;
  try {
    preview = await api<UnsubscribeAnswer>('GET', path);
  } catch (error) {
    replace(root, h('h1', null, 'Unsubscribe'), notice('error', errorText(error)));
    return;
  }
  const status = h('div');
  const stop = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        stop.disabled = true;
        void api<UnsubscribeAnswer>('POST', path, {})
          .then((done) => {
            stop.hidden = true;
            replace(status, notice('ok', `Done: ${done.address} no longer gets ${done.description}.`));
          })
          .catch((error: unknown) => {
            stop.disabled = false;
            replace(status, notice('error', errorText(error)));
          });
      },
    },
    'Stop these mails',
  );
  replace(
    root,
    h('h1', null, 'Unsubscribe'),
    h(
      'section',
      { class: 'card narrow' },
      h('p', null, `Stop sending ${preview.address} ${preview.description}?`),
      h('div', { class: 'row' }, stop),
      status,
      h('p', { class: 'muted' }, 'Owners can switch each kind of mail on or off again under Settings.'),
    ),
  );
}
