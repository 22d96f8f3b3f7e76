/**
 * Sign-in with a real OpenID provider on loopback (`oidc-provider`, its own login and consent
 * pages, on another host name so it is another site) and with a GitHub-like OAuth stand-in: the
 * first sign-in creates the owner, the next ones find them; an existing owner is linked only by an
 * address the provider verified; a callback without this browser's check cookie, with a changed
 * state or replayed is refused; the check cookie is SameSite=Lax and the session cookie Strict.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type BrowserClient, browserClient } from '../helpers/browser-client.js';
import { type GithubUser, startGithubStandIn } from '../helpers/github-stand-in.js';
import { startMailCatcher } from '../helpers/mail-catcher.js';
import { type IdpAccount, signInThroughProvider, startOidcProvider } from '../helpers/oidc-provider.js';
import { freePort, startTestServer } from '../helpers/server.js';

const FAST = { notificationIntervals: { dispatchMs: 50, mailMs: 50, webhookMs: 50, watchMs: 60_000 } };

interface SessionBody {
  signedIn: boolean;
  role: string;
  ownerId: string | null;
  email: string | null;
}

describe('sign-in with OpenID Connect and GitHub', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const fn of cleanup.splice(0).reverse()) await fn();
  });

  async function setup(accounts: Record<string, IdpAccount>, githubUser?: GithubUser) {
    const port = await freePort();
    const idp = await startOidcProvider({
      redirectUris: [`http://127.0.0.1:${port}/v1/auth/oidc/testidp/callback`],
      accounts,
    });
    cleanup.push(() => idp.close());
    const github = await startGithubStandIn(
      githubUser ?? { id: 1, login: 'octocat', name: null, emails: [] },
    );
    cleanup.push(() => github.close());
    const mail = await startMailCatcher();
    cleanup.push(() => mail.stop());
    const server = await startTestServer({
      port,
      deps: FAST,
      accounts: {
        smtpUrl: mail.url,
        providers: [
          {
            kind: 'oidc',
            id: 'testidp',
            name: 'Test ID',
            issuer: idp.issuer,
            clientId: idp.clientId,
            clientSecret: idp.clientSecret,
          },
          {
            kind: 'github',
            id: 'github',
            name: 'GitHub',
            clientId: github.clientId,
            clientSecret: github.clientSecret,
            authorizeUrl: github.endpoints.authorize,
            tokenUrl: github.endpoints.token,
            userUrl: github.endpoints.user,
            emailsUrl: github.endpoints.emails,
          },
        ],
      },
    });
    cleanup.push(() => server.close());
    return { server, idp, github, mail };
  }

  async function session(client: BrowserClient) {
    return (await client.call<SessionBody>('GET', '/v1/session')).body;
  }

  it('lists the configured providers, and creates the owner on a first sign-in, finding them on the next', async () => {
    const { server, mail } = await setup({
      ada: { email: 'Ada@Example.com', email_verified: true, name: 'Ada Lovelace' },
    });
    expect((await browserClient(server.url).call('GET', '/v1/auth/providers')).body).toEqual({
      providers: [
        { id: 'testidp', name: 'Test ID', startUrl: '/v1/auth/oidc/testidp/start' },
        { id: 'github', name: 'GitHub', startUrl: '/v1/auth/oidc/github/start' },
      ],
    });

    const first = browserClient(server.url);
    const start = await first.get('/v1/auth/oidc/testidp/start');
    expect(start.status).toBe(302);
    const authorize = new URL(start.headers.get('location') ?? '');
    expect(authorize.origin).toMatch(/^http:\/\/localhost:/);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toMatch(/^[\w-]{40,}$/);
    expect(authorize.searchParams.get('nonce')).toMatch(/^[\w-]{40,}$/);
    expect(start.headers.getSetCookie().join('\n')).toMatch(
      /hn_signin=.*Path=\/v1\/auth\/oidc\/;.*HttpOnly;.*SameSite=Lax/i,
    );

    const back = await signInThroughProvider(first, '/v1/auth/oidc/testidp/start', 'ada');
    expect(back.status).toBe(302);
    expect(back.headers.get('location')).toBe('/machines');
    expect(back.headers.getSetCookie().join('\n')).toMatch(
      /hn_session=[\w-]{40,};.*HttpOnly;.*SameSite=Strict/i,
    );
    const signedIn = await session(first);
    expect(signedIn).toMatchObject({ signedIn: true, role: 'owner', email: 'ada@example.com' });
    // The provider verified the address: keys can be made at once, and the welcome mail goes out.
    expect((await first.call('POST', '/v1/keys', {})).status).toBe(201);
    expect((await first.call('GET', '/v1/me/account')).body).toMatchObject({
      name: 'Ada Lovelace',
      emailVerified: true,
      passwordSet: false,
      providers: ['testidp'],
    });
    await mail.waitFor((m) => m.to.includes('ada@example.com') && /welcome/i.test(m.subject));

    const again = browserClient(server.url);
    await signInThroughProvider(again, '/v1/auth/oidc/testidp/start', 'ada');
    expect((await session(again)).ownerId).toBe(signedIn.ownerId);
    const db = new Database(server.dbPath, { readonly: true });
    const methods = db.prepare('SELECT method FROM sessions WHERE ended_at IS NULL').all() as {
      method: string;
    }[];
    const owners = db.prepare('SELECT COUNT(*) AS n FROM owners').get() as { n: number };
    db.close();
    expect(methods.map((m) => m.method)).toEqual(['oidc', 'oidc']);
    expect(owners.n).toBe(1);
  });

  it('links an existing owner only by an address the provider verified', async () => {
    const { server } = await setup({
      mallory: { email: 'grace@example.com', email_verified: false, name: 'Not Grace' },
      mary: { email: 'mary@example.com', email_verified: true, name: 'Mary' },
    });
    const grace = browserClient(server.url);
    await grace.call('POST', '/v1/signup', {
      email: 'grace@example.com',
      name: 'Grace',
      password: 'correct horse battery',
    });
    const mallory = browserClient(server.url);
    const refused = await signInThroughProvider(mallory, '/v1/auth/oidc/testidp/start', 'mallory');
    expect(refused.headers.get('location')).toBe('/login?error=unverified-email');
    expect(await session(mallory)).toEqual({ signedIn: false });
    expect((await grace.call('GET', '/v1/me/account')).body).toMatchObject({ providers: [] });

    const maryByPassword = browserClient(server.url);
    const signup = await maryByPassword.call<SessionBody>('POST', '/v1/signup', {
      email: 'mary@example.com',
      name: 'Mary',
      password: 'correct horse battery',
    });
    const mary = browserClient(server.url);
    await signInThroughProvider(mary, '/v1/auth/oidc/testidp/start', 'mary');
    expect((await session(mary)).ownerId).toBe(signup.body.ownerId);
    expect((await mary.call('GET', '/v1/me/account')).body).toMatchObject({
      emailVerified: true,
      passwordSet: true,
      providers: ['testidp'],
    });
  });

  it('refuses a callback without the check cookie, with a changed state, or replayed', async () => {
    const { server } = await setup({ ada: { email: 'ada@example.com', email_verified: true } });
    // The callback reached in another browser: refused, whether that browser has no check cookie
    // or its own sign-in under way (login CSRF: nobody can sign a victim in as themselves).
    const other = browserClient(server.url);
    const attacker = await signInThroughProvider(other, '/v1/auth/oidc/testidp/start', 'ada');
    expect(attacker.status).toBe(302);
    const callback = new URL(attacker.url);
    const fresh = browserClient(server.url);
    expect((await fresh.get(callback.href)).headers.get('location')).toBe('/login?error=expired');
    const victim = browserClient(server.url);
    await victim.get('/v1/auth/oidc/testidp/start');
    expect((await victim.get(callback.href)).headers.get('location')).toBe('/login?error=provider');
    expect(await session(victim)).toEqual({ signedIn: false });
    expect(await session(fresh)).toEqual({ signedIn: false });
    // Replayed in the browser that finished it: its check cookie is gone.
    expect((await other.get(callback.href)).headers.get('location')).toBe('/login?error=expired');

    // A state that is not the one this browser was sent with: refused by the library's check.
    const third = browserClient(server.url);
    const start = await third.get('/v1/auth/oidc/testidp/start');
    const idpUrl = new URL(start.headers.get('location') ?? '');
    idpUrl.searchParams.set('state', 'a-state-this-browser-never-had-0000000000000');
    const finished = await signInThroughProvider(third, idpUrl.href, 'ada');
    expect(finished.headers.get('location')).toBe('/login?error=provider');
    expect(await session(third)).toEqual({ signedIn: false });
    expect((await third.get('/v1/auth/oidc/nope/start')).status).toBe(404);
  });

  it('refuses a provider account without an address, and confirms an unverified new one by mail', async () => {
    const { server, mail } = await setup({
      ghost: {},
      newbie: { email: 'newbie@example.com', email_verified: false },
    });
    const ghost = browserClient(server.url);
    expect(
      (await signInThroughProvider(ghost, '/v1/auth/oidc/testidp/start', 'ghost')).headers.get('location'),
    ).toBe('/login?error=no-email');
    const newbie = browserClient(server.url);
    await signInThroughProvider(newbie, '/v1/auth/oidc/testidp/start', 'newbie');
    expect((await session(newbie)).email).toBe('newbie@example.com');
    expect((await newbie.call<{ error: { code: string } }>('POST', '/v1/keys', {})).body.error.code).toBe(
      'EMAIL_NOT_VERIFIED',
    );
    await mail.waitFor((m) => m.to.includes('newbie@example.com') && /confirm/i.test(m.subject));
  });

  it("signs in with GitHub's OAuth flow by its verified primary address", async () => {
    const { server, github } = await setup(
      {},
      {
        id: 583231,
        login: 'octocat',
        name: 'The Octocat',
        emails: [
          { email: 'octo-old@example.com', primary: false, verified: false },
          { email: 'octocat@example.com', primary: true, verified: true },
        ],
      },
    );
    const octo = browserClient(server.url);
    const back = await signInThroughProvider(octo, '/v1/auth/oidc/github/start', 'octocat');
    expect(back.headers.get('location')).toBe('/machines');
    expect(await session(octo)).toMatchObject({ role: 'owner', email: 'octocat@example.com' });
    expect((await octo.call('GET', '/v1/me/account')).body).toMatchObject({
      name: 'The Octocat',
      emailVerified: true,
      providers: ['github'],
    });
    expect(github.requests).toEqual([
      'GET /login/oauth/authorize',
      'POST /login/oauth/access_token',
      'GET /user',
      'GET /user/emails',
    ]);

    // Without a verified address GitHub gives us none to use.
    github.user = {
      id: 99,
      login: 'unverified',
      name: null,
      emails: [{ email: 'u@example.com', primary: true, verified: false }],
    };
    const unverified = browserClient(server.url);
    expect(
      (await signInThroughProvider(unverified, '/v1/auth/oidc/github/start', 'unverified')).headers.get(
        'location',
      ),
    ).toBe('/login?error=no-email');
  });
});
