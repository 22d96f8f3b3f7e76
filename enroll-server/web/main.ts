/**
 * The dashboard: a small client-side router, the signed-in layout (navigation by role) and the
 * pages. Framework-free; every page renders into `#main` and cleans up after itself.
 */
import { errorText, onSignedOut } from './api.js';
import { h, notice, replace } from './dom.js';
import type { Page, PageContext } from './page.js';
import { addMachinePage } from './pages/add-machine.js';
import { auditsPage } from './pages/audits.js';
import { earningsPage } from './pages/earnings.js';
import { fleetPage } from './pages/fleet.js';
import { accountBanner } from './account-banner.js';
import { loginPage, signupPage } from './pages/login.js';
import { resetPasswordPage, unsubscribePage, verifyEmailPage } from './pages/mailed-links.js';
import { machinesPage } from './pages/machines.js';
import { nodePage } from './pages/node.js';
import { outagesPage } from './pages/outages.js';
import { rolloutsPage } from './pages/rollouts.js';
import { payoutsPage } from './pages/payouts.js';
import { performancePage } from './pages/performance.js';
import { pendingPage } from './pages/pending.js';
import { settingsPage } from './pages/settings.js';
import { statementPage } from './pages/statement.js';
import { webhooksPage } from './pages/webhooks.js';
import { type Session, can, homeFor, loadSession, signOut } from './session.js';

interface Route {
  pattern: string;
  page: Page;
  title: string;
  allowed?: (s: Session) => boolean;
}

const ROUTES: Route[] = [
  { pattern: '/machines', page: machinesPage, title: 'My machines', allowed: (s) => s.role === 'owner' },
  {
    pattern: '/machines/add',
    page: addMachinePage,
    title: 'Add a machine',
    allowed: (s) => s.role === 'owner',
  },
  { pattern: '/earnings', page: earningsPage, title: 'Earnings', allowed: (s) => s.role === 'owner' },
  { pattern: '/pending', page: pendingPage, title: 'Pending machines', allowed: can.operate },
  { pattern: '/fleet', page: fleetPage, title: 'Fleet', allowed: can.readFleet },
  { pattern: '/nodes/:id', page: nodePage, title: 'Machine' },
  { pattern: '/audits', page: auditsPage, title: 'Audits', allowed: can.operate },
  { pattern: '/outages', page: outagesPage, title: 'Outage windows', allowed: can.operate },
  { pattern: '/rollouts', page: rolloutsPage, title: 'Agent rollouts', allowed: can.operate },
  { pattern: '/payouts', page: payoutsPage, title: 'Payout periods', allowed: can.review },
  { pattern: '/payouts/:id', page: statementPage, title: 'Statement', allowed: can.review },
  { pattern: '/settings', page: settingsPage, title: 'Settings', allowed: (s) => s.role === 'owner' },
  { pattern: '/webhooks', page: webhooksPage, title: 'Webhooks', allowed: (s) => s.role !== 'reviewer' },
];

/** Pages a mailed link opens, and the public performance board: shown whether or not anyone is signed in. */
const LINK_PAGES: Record<
  string,
  { title: string; show: (root: HTMLElement, query: URLSearchParams) => unknown }
> = {
  '/verify-email': {
    title: 'Confirm your email address',
    show: (root, query) => verifyEmailPage(root, query, session !== null),
  },
  '/reset-password': { title: 'Reset your password', show: resetPasswordPage },
  '/unsubscribe': { title: 'Unsubscribe', show: unsubscribePage },
  '/performance': { title: 'Performance of the fleet', show: (root) => performancePage(root) },
};

function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/');
  const b = path.split('/');
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i += 1) {
    const p = a[i] ?? '';
    const v = b[i] ?? '';
    if (p.startsWith(':')) params[p.slice(1)] = decodeURIComponent(v);
    else if (p !== v) return undefined;
  }
  return params;
}

let session: Session | null = null;
const leave: (() => void)[] = [];

function navigate(path: string, replaceState = false): void {
  if (replaceState) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  void render();
}

function navLinks(s: Session): [string, string][] {
  const links: [string, string][] = [];
  if (s.role === 'owner') links.push(['/machines', 'My machines'], ['/earnings', 'Earnings']);
  if (can.operate(s))
    links.push(
      ['/pending', 'Pending'],
      ['/fleet', 'Fleet'],
      ['/audits', 'Audits'],
      ['/outages', 'Outages'],
      ['/rollouts', 'Rollouts'],
    );
  else if (can.readFleet(s)) links.push(['/fleet', 'Fleet']);
  if (can.review(s)) links.push(['/payouts', 'Payouts']);
  if (s.role !== 'reviewer') links.push(['/webhooks', 'Webhooks']);
  if (s.role === 'owner') links.push(['/settings', 'Settings']);
  return links;
}

function header(s: Session | null): HTMLElement {
  const path = location.pathname;
  return h(
    'header',
    { class: 'top' },
    h('a', { href: s ? homeFor(s) : '/login', class: 'brand' }, 'Home Node'),
    s &&
      h(
        'nav',
        { 'aria-label': 'Main' },
        h(
          'ul',
          null,
          navLinks(s).map(([href, label]) =>
            h(
              'li',
              null,
              h(
                'a',
                { href, 'aria-current': path === href || path.startsWith(`${href}/`) ? 'page' : null },
                label,
              ),
            ),
          ),
        ),
      ),
    s &&
      h(
        'div',
        { class: 'who' },
        h('span', null, s.email ?? `${s.role} token`),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              void signOut()
                .catch(() => undefined)
                .then(() => {
                  session = null;
                  navigate('/login');
                });
            },
          },
          'Sign out',
        ),
      ),
  );
}

async function render(): Promise<void> {
  for (const fn of leave.splice(0)) fn();
  const app = document.getElementById('app');
  if (!app) return;
  const path = location.pathname.replace(/\/+$/, '') || '/';
  const main = h('main', { id: 'main', tabindex: '-1' });
  const publicPage = path === '/login' || path === '/signup';
  const linkPage = LINK_PAGES[path];
  if (linkPage) {
    replace(app, h('a', { href: '#main', class: 'skip' }, 'Skip to content'), header(session), main);
    document.title = `${linkPage.title} · Home Node`;
    await linkPage.show(main, new URLSearchParams(location.search));
    return;
  }
  if (!session && !publicPage) {
    navigate('/login', true);
    return;
  }
  if (session && (publicPage || path === '/')) {
    navigate(homeFor(session), true);
    return;
  }
  replace(app, h('a', { href: '#main', class: 'skip' }, 'Skip to content'), header(session), main);
  const ctx = (params: Record<string, string>): PageContext => ({
    root: main,
    params,
    query: new URLSearchParams(location.search),
    session: session as Session,
    navigate: (p) => navigate(p),
    onLeave: (fn) => leave.push(fn),
    now: () => Date.now(),
  });
  if (!session) {
    const onSignedIn = (s: Session) => {
      session = s;
      navigate(homeFor(s), true);
    };
    if (path === '/signup') signupPage(main, onSignedIn);
    else loginPage(main, onSignedIn, new URLSearchParams(location.search));
    document.title = `${path === '/signup' ? 'Sign up' : 'Sign in'} · Home Node`;
    return;
  }
  for (const route of ROUTES) {
    const params = match(route.pattern, path);
    if (!params) continue;
    document.title = `${route.title} · Home Node`;
    if (route.allowed && !route.allowed(session)) {
      replace(main, h('h1', null, 'Not available'), notice('error', 'Your role cannot open this page.'));
      return;
    }
    try {
      if (session.role === 'owner') {
        const banner = await accountBanner().catch(() => null);
        if (banner) main.before(banner);
      }
      await route.page(ctx(params));
    } catch (error) {
      main.append(notice('error', errorText(error)));
    }
    return;
  }
  document.title = 'Not found · Home Node';
  replace(
    main,
    h('h1', null, 'Page not found'),
    h('p', null, h('a', { href: homeFor(session) }, 'Go to the start page')),
  );
}

/** Same-origin links are handled here instead of reloading the page. */
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey)
    return;
  const a = (event.target as Element | null)?.closest('a');
  if (!a || a.target || a.hasAttribute('download') || a.origin !== location.origin) return;
  if (
    a.pathname.startsWith('/v1/') ||
    a.pathname.startsWith('/docs/') ||
    a.getAttribute('href')?.startsWith('#')
  )
    return;
  event.preventDefault();
  navigate(a.pathname + a.search);
});

window.addEventListener('popstate', () => void render());

onSignedOut(() => {
  if (!session) return;
  session = null;
  navigate('/login');
});

async function start(): Promise<void> {
  session = await loadSession();
  await render();
}

void start().catch((error: unknown) => {
  const app = document.getElementById('app');
  if (app) replace(app, notice('error', `The dashboard could not start: ${errorText(error)}`));
});
