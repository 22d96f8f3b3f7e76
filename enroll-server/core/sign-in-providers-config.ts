/**
 * The sign-in providers file `HOMENODE_OIDC_PROVIDERS` names (docs/accounts.md): OpenID Connect
 * issuers and GitHub's OAuth flow, checked when the server starts. Every error names the variable,
 * the file and what to write instead.
 */
import { readFileSync } from 'node:fs';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { ConfigError } from './config-error.js';

/** An OpenID Connect provider (Google, or any standard issuer). */
export interface OidcProviderConfig {
  kind: 'oidc';
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
}

/** GitHub's OAuth web flow (GitHub is not an OpenID provider), with its endpoints configurable. */
export interface GithubProviderConfig {
  kind: 'github';
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
  authorizeUrl: string;
  tokenUrl: string;
  userUrl: string;
  emailsUrl: string;
}

export type SignInProviderConfig = OidcProviderConfig | GithubProviderConfig;

const ProviderId = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,31}$' });
const Secret = Type.String({ minLength: 1, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' });
const Name = Type.String({ minLength: 1, maxLength: 40, pattern: '^[^\\x00-\\x1f<>]+$' });
const Url = Type.String({ minLength: 8, maxLength: 500 });
const ProvidersFile = Type.Array(
  Type.Union([
    Type.Object(
      {
        id: ProviderId,
        type: Type.Optional(Type.Literal('oidc')),
        name: Type.Optional(Name),
        issuer: Url,
        clientId: Secret,
        clientSecret: Secret,
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        id: ProviderId,
        type: Type.Literal('github'),
        name: Type.Optional(Name),
        clientId: Secret,
        clientSecret: Secret,
        endpoints: Type.Optional(
          Type.Object(
            {
              authorize: Type.Optional(Url),
              token: Type.Optional(Url),
              user: Type.Optional(Url),
              emails: Type.Optional(Url),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  ]),
  { maxItems: 20 },
);
type ProvidersFileBody = Static<typeof ProvidersFile>;
const providersFile = Compile(ProvidersFile);

export const GITHUB_ENDPOINTS = {
  authorize: 'https://github.com/login/oauth/authorize',
  token: 'https://github.com/login/oauth/access_token',
  user: 'https://api.github.com/user',
  emails: 'https://api.github.com/user/emails',
};

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** https, or http on a loopback host (tests and local development); no credentials, no fragment. */
export function isAcceptableProviderUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.username || url.password || url.hash) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
}

function providerUrl(file: string, id: string, what: string, value: string): string {
  if (!isAcceptableProviderUrl(value)) {
    throw new ConfigError(
      'HOMENODE_OIDC_PROVIDERS',
      file,
      `provider '${id}': ${what} ${JSON.stringify(value)} must be an https:// URL (http:// only on a loopback address)`,
    );
  }
  return value.replace(/\/+$/, '');
}

function toProvider(file: string, entry: ProvidersFileBody[number]): SignInProviderConfig {
  if (entry.type === 'github') {
    const e = { ...GITHUB_ENDPOINTS, ...entry.endpoints };
    return {
      kind: 'github',
      id: entry.id,
      name: entry.name ?? 'GitHub',
      clientId: entry.clientId,
      clientSecret: entry.clientSecret,
      authorizeUrl: providerUrl(file, entry.id, 'endpoints.authorize', e.authorize),
      tokenUrl: providerUrl(file, entry.id, 'endpoints.token', e.token),
      userUrl: providerUrl(file, entry.id, 'endpoints.user', e.user),
      emailsUrl: providerUrl(file, entry.id, 'endpoints.emails', e.emails),
    };
  }
  return {
    kind: 'oidc',
    id: entry.id,
    name: entry.name ?? entry.id.charAt(0).toUpperCase() + entry.id.slice(1),
    issuer: providerUrl(file, entry.id, 'issuer', entry.issuer),
    clientId: entry.clientId,
    clientSecret: entry.clientSecret,
  };
}

/** Reads and checks the providers file: a JSON array of `{ id, issuer, clientId, clientSecret }`. */
export function loadProvidersFile(
  path: string,
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): SignInProviderConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(read(path));
  } catch (cause) {
    throw new ConfigError('HOMENODE_OIDC_PROVIDERS', path, `cannot read it as JSON (${String(cause)})`);
  }
  if (!providersFile.Check(parsed)) {
    const problem = providersFile
      .Errors(parsed)
      .slice(0, 3)
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ');
    throw new ConfigError(
      'HOMENODE_OIDC_PROVIDERS',
      path,
      `must be a JSON array of { "id", "issuer", "clientId", "clientSecret" } (or { "id", "type": "github", "clientId", "clientSecret" }): ${problem}`,
    );
  }
  const providers = parsed.map((entry) => toProvider(path, entry));
  const ids = providers.map((p) => p.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new ConfigError('HOMENODE_OIDC_PROVIDERS', path, `names the provider '${twice}' twice`);
  return providers;
}
