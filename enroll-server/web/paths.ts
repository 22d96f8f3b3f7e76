/**
 * The dashboard's client-side routes. The server answers each with the app's `index.html` (so a
 * reload or a shared link works) and the browser router renders it. Shared by both sides; pure.
 */
export const SPA_PATHS = [
  '/',
  '/login',
  '/signup',
  '/machines',
  '/machines/add',
  '/earnings',
  '/pending',
  '/fleet',
  '/nodes/:id',
  '/audits',
  '/outages',
  '/rollouts',
  '/payouts',
  '/payouts/:id',
  '/settings',
  '/webhooks',
  '/verify-email',
  '/reset-password',
  '/unsubscribe',
  '/performance',
] as const;
