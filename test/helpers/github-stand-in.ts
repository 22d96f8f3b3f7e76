/**
 * A stand-in for GitHub's OAuth web flow on loopback (GitHub is a third party we cannot run),
 * answering as GitHub's documented endpoints do: `GET /login/oauth/authorize` (the signed-in person
 * agrees at once) redirects back with `code` and `state`; `POST /login/oauth/access_token` takes
 * the form body with the client secret and the PKCE verifier, answers JSON when asked for it and an
 * error object with status 200 on a bad code (as GitHub does); `GET /user` and `GET /user/emails`
 * need the token and a User-Agent. It logs every request it gets.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';

export interface GithubUser {
  id: number;
  login: string;
  name: string | null;
  emails: { email: string; primary: boolean; verified: boolean }[];
}

export interface GithubStandIn {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Who is signed in at "GitHub" right now. */
  user: GithubUser;
  requests: string[];
  endpoints: { authorize: string; token: string; user: string; emails: string };
  close(): Promise<void>;
}

interface Grant {
  user: GithubUser;
  redirectUri: string;
  challenge: string;
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
};

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => resolve(body));
  });

export async function startGithubStandIn(user: GithubUser): Promise<GithubStandIn> {
  const codes = new Map<string, Grant>();
  const tokens = new Map<string, GithubUser>();
  const clientId = 'Iv1.standin0client';
  const clientSecret = randomBytes(20).toString('hex');
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://stand-in');
      requests.push(`${req.method} ${url.pathname}`);
      if (req.method === 'GET' && url.pathname === '/login/oauth/authorize') {
        const redirectUri = url.searchParams.get('redirect_uri') ?? '';
        if (url.searchParams.get('client_id') !== clientId) return json(res, 404, { message: 'Not Found' });
        const code = randomBytes(10).toString('hex');
        codes.set(code, {
          user: standIn.user,
          redirectUri,
          challenge: url.searchParams.get('code_challenge') ?? '',
        });
        const back = new URL(redirectUri);
        back.searchParams.set('code', code);
        back.searchParams.set('state', url.searchParams.get('state') ?? '');
        res.writeHead(302, { location: back.href });
        return res.end();
      }
      if (req.method === 'POST' && url.pathname === '/login/oauth/access_token') {
        const form = new URLSearchParams(await readBody(req));
        const grant = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        const ok =
          grant &&
          form.get('client_id') === clientId &&
          form.get('client_secret') === clientSecret &&
          form.get('redirect_uri') === grant.redirectUri &&
          (grant.challenge === '' || grant.challenge === challenge);
        if (!ok || !grant) {
          return json(res, 200, {
            error: 'bad_verification_code',
            error_description: 'The code passed is incorrect or expired.',
            error_uri:
              'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code',
          });
        }
        const token = `gho_${randomBytes(18).toString('base64url')}`;
        tokens.set(token, grant.user);
        const answer = { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' };
        if ((req.headers.accept ?? '').includes('application/json')) return json(res, 200, answer);
        res.writeHead(200, { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' });
        return res.end(new URLSearchParams(answer).toString());
      }
      if (req.method === 'GET' && (url.pathname === '/user' || url.pathname === '/user/emails')) {
        if (!req.headers['user-agent'])
          return json(res, 403, {
            message:
              'Request forbidden by administrative rules. Please make sure your request has a User-Agent header.',
          });
        const auth = /^(?:Bearer|token) (\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
        const who = tokens.get(auth);
        if (!who)
          return json(res, 401, {
            message: 'Bad credentials',
            documentation_url: 'https://docs.github.com/rest',
          });
        if (url.pathname === '/user')
          return json(res, 200, { login: who.login, id: who.id, name: who.name, email: null, type: 'User' });
        return json(
          res,
          200,
          who.emails.map((e) => ({ ...e, visibility: e.primary ? 'private' : null })),
        );
      }
      return json(res, 404, { message: 'Not Found' });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('the stand-in has no TCP address');
  const base = `http://localhost:${address.port}`;
  const standIn: GithubStandIn = {
    url: base,
    clientId,
    clientSecret,
    user,
    requests,
    endpoints: {
      authorize: `${base}/login/oauth/authorize`,
      token: `${base}/login/oauth/access_token`,
      user: `${base}/user`,
      emails: `${base}/user/emails`,
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return standIn;
}
