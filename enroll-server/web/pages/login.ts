/** Sign in (email and password, or an API token) and owner sign-up. */
import { api, errorText } from '../api.js';
import { field, h, notice, replace } from '../dom.js';
import { type Session, signIn, signUp } from '../session.js';

type SignedIn = (s: Session) => void;

function submitting(form: HTMLFormElement, status: HTMLElement, run: () => Promise<void>): void {
  const button = form.querySelector('button[type=submit]');
  if (button instanceof HTMLButtonElement) button.disabled = true;
  replace(status);
  void run()
    .catch((error: unknown) => replace(status, notice('error', errorText(error))))
    .finally(() => {
      if (button instanceof HTMLButtonElement) button.disabled = false;
    });
}

/** What a failed provider sign-in (`/login?error=`) means, and what to do. */
const SIGN_IN_ERRORS: Record<string, string> = {
  expired: 'That sign-in took too long or was started in another browser. Start again with the button below.',
  state:
    'That sign-in answer did not belong to the sign-in this browser started. Start again with the button below.',
  provider:
    'The sign-in provider did not complete the sign-in. Try again; if it keeps failing, sign in with your email and password.',
  denied: 'You cancelled the sign-in at the provider. Nothing was changed.',
  'no-email':
    'The provider did not share a confirmed email address with us. Allow access to your email address at the provider, or sign up with your email and a password.',
  'unverified-email':
    'An account with that email address exists, and the provider has not confirmed the address is yours. Sign in with your password instead (or reset it).',
  disabled: 'This account cannot sign in. Contact the operator of this Home Node server.',
};

interface Provider {
  id: string;
  name: string;
  startUrl: string;
}

function providerButtons(providers: Provider[], verb: 'Sign in' | 'Sign up'): HTMLElement | null {
  if (providers.length === 0) return null;
  return h(
    'div',
    { class: 'providers' },
    h('p', null, `Or ${verb.toLowerCase()} with`),
    h(
      'div',
      { class: 'row' },
      providers.map((p) => h('a', { class: 'button secondary', href: p.startUrl }, `${verb} with ${p.name}`)),
    ),
  );
}

/** Fills `into` with a button per configured provider. */
function loadProviders(into: HTMLElement, verb: 'Sign in' | 'Sign up'): void {
  void api<{ providers: Provider[] }>('GET', '/v1/auth/providers')
    .then((r) => replace(into, providerButtons(r.providers, verb)))
    .catch(() => undefined);
}

export function loginPage(root: HTMLElement, onSignedIn: SignedIn, query?: URLSearchParams): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const token = h('input', {
    type: 'password',
    name: 'token',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const passwordStatus = h('div');
  const tokenStatus = h('div');
  const passwordForm = h(
    'form',
    { 'aria-labelledby': 'h-password' },
    h('h2', { id: 'h-password' }, 'Machine owners'),
    field('Email', email),
    field('Password', password),
    passwordStatus,
    h('button', { type: 'submit' }, 'Sign in'),
    h('p', null, h('a', { href: '/reset-password' }, 'Forgot your password?')),
    h('p', null, 'New here? ', h('a', { href: '/signup' }, 'Create an account')),
    h('p', null, h('a', { href: '/performance' }, 'How the fleet performs'), ' (no sign-in needed)'),
  );
  const providers = h('div');
  passwordForm.append(providers);
  loadProviders(providers, 'Sign in');
  passwordForm.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(passwordForm, passwordStatus, async () =>
      onSignedIn(await signIn({ email: email.value, password: password.value })),
    );
  });
  const tokenForm = h(
    'form',
    { 'aria-labelledby': 'h-token' },
    h('h2', { id: 'h-token' }, 'Operations, reviewers and scripts'),
    field('API token', token, 'Starts with hn_. Ask an administrator if you do not have one.'),
    tokenStatus,
    h('button', { type: 'submit' }, 'Sign in with token'),
  );
  tokenForm.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(tokenForm, tokenStatus, async () => onSignedIn(await signIn({ token: token.value.trim() })));
  });
  const failed = query?.get('error');
  replace(
    root,
    h('h1', null, 'Sign in to Home Node'),
    failed ? notice('error', SIGN_IN_ERRORS[failed] ?? SIGN_IN_ERRORS.provider ?? '') : null,
    h(
      'div',
      { class: 'cards two' },
      h('section', { class: 'card' }, passwordForm),
      h('section', { class: 'card' }, tokenForm),
    ),
  );
}

export function signupPage(root: HTMLElement, onSignedIn: SignedIn): void {
  const name = h('input', {
    type: 'text',
    name: 'name',
    autocomplete: 'name',
    required: true,
    maxlength: 200,
  });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'new-password',
    required: true,
    minlength: 10,
  });
  const status = h('div');
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'h-signup' },
    h('h2', { id: 'h-signup' }, 'Create your account'),
    h(
      'p',
      null,
      'Rent out your GPU machine: sign up, add the machine, and we pay you for the time it is available.',
    ),
    field('Your name', name),
    field('Email', email),
    field('Password', password, 'At least 10 characters.'),
    status,
    h('button', { type: 'submit' }, 'Create account'),
    h('p', { class: 'muted' }, 'We mail you a link to confirm your address before you add a machine.'),
    h('p', null, 'Already have an account? ', h('a', { href: '/login' }, 'Sign in')),
  );
  const providers = h('div');
  form.append(providers);
  loadProviders(providers, 'Sign up');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submitting(form, status, async () =>
      onSignedIn(
        await signUp({ name: name.value.trim(), email: email.value.trim(), password: password.value }),
      ),
    );
  });
  replace(root, h('h1', null, 'Sign up'), form);
}
