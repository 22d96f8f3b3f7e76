/**
 * A real OpenID provider on loopback (the `oidc-provider` package, with its own development login
 * and consent pages), at `http://localhost:PORT` so that it is another site than the enroll-server
 * on 127.0.0.1, as Google is in real life. Accounts are given by the test; any password works on
 * its login page (that is its development login).
 */
import { type Server, createServer } from 'node:http';
import Provider from 'oidc-provider';
import { expect } from 'vitest';
import type { BrowserClient } from './browser-client.js';

export interface IdpAccount {
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export interface TestIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  close(): Promise<void>;
}

export async function startOidcProvider(options: {
  redirectUris: string[];
  accounts: Record<string, IdpAccount>;
}): Promise<TestIdp> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the provider has no TCP address');
  const issuer = `http://localhost:${address.port}`;
  const clientId = 'homenode-test';
  const clientSecret = 'a-test-client-secret-of-some-length';
  const provider = new Provider(issuer, {
    clients: [{ client_id: clientId, client_secret: clientSecret, redirect_uris: options.redirectUris }],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    findAccount: (_ctx, sub) => {
      const account = options.accounts[sub];
      return account ? { accountId: sub, claims: () => ({ sub, ...account }) } : undefined;
    },
    pkce: { required: () => true },
    ttl: {
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
      AuthorizationCode: 60,
    },
  });
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Signs in at the provider as a person would with a browser: start at the enroll-server, follow the
 * redirects, fill in the provider's login form (any password) and its consent form, and come back
 * to the callback. Returns the callback's answer (a redirect to the dashboard or to /login?error=).
 */
export async function signInThroughProvider(
  client: BrowserClient,
  startPath: string,
  login: string,
): Promise<Response> {
  let res = await client.get(startPath);
  for (let hop = 0; hop < 12; hop += 1) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      const next = new URL(location, res.url);
      if (next.pathname.includes('/v1/auth/oidc/') && next.pathname.endsWith('/callback'))
        return client.get(next.href);
      res = await client.get(next.href);
      continue;
    }
    expect(res.status, `the provider's page ${res.url}`).toBe(200);
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form on the provider's page:\n${html.slice(0, 500)}`);
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1] ?? 'consent';
    const form: Record<string, string> =
      prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt };
    res = await client.get(new URL(action, res.url).href, { form });
  }
  throw new Error('the sign-in did not come back to the enroll-server');
}
