/**
 * For a signed-in owner whose address is not confirmed yet: what to do (open the mailed link) and a
 * button to send it again. Shown above every page until the address is confirmed.
 */
import { api, errorText } from './api.js';
import { h, notice, replace } from './dom.js';

export async function accountBanner(): Promise<HTMLElement | null> {
  const account = await api<{ email: string; emailVerified: boolean }>('GET', '/v1/me/account');
  if (account.emailVerified) return null;
  const status = h('span', { role: 'status' });
  const again = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: () => {
        again.disabled = true;
        void api<{ sentTo: string }>('POST', '/v1/auth/verify-email/resend')
          .then((r) => replace(status, `Sent again to ${r.sentTo}.`))
          .catch((error: unknown) => replace(status, errorText(error)))
          .finally(() => (again.disabled = false));
      },
    },
    'Send it again',
  );
  return h(
    'div',
    { class: 'banner', id: 'confirm-banner' },
    notice(
      'info',
      `Confirm your email address: we sent a link to ${account.email}. You can add a machine once it is confirmed.`,
    ),
    h('div', { class: 'row' }, again, status),
  );
}
