/**
 * Configuration of owner accounts and notifications (docs/accounts.md), read once at the edge from
 * the `HOMENODE_SMTP_*`, `HOMENODE_MAIL_*`, `HOMENODE_OIDC_PROVIDERS`, `HOMENODE_WEBHOOK_*` and
 * `HOMENODE_OPS_*` variables. Every error names the variable and what to write instead.
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

/** Attempt n (0-based) waits `delaysMs[min(n, last)]`, with jitter; after `maxAttempts` it gives up. */
export interface RetryPolicy {
  delaysMs: number[];
  maxAttempts: number;
}

export interface AccountsConfig {
  /** `smtp://` or `smtps://` URL; null: mails are written as .eml files to `<dataDir>/mail/`. */
  smtpUrl: string | null;
  mailFrom: string;
  /** Where the operations team's notices go (pending queue, many nodes dropping). */
  opsEmails: string[];
  providers: SignInProviderConfig[];
  /** The server's secret key file; default `<dataDir>/secret.key`. */
  secretFile: string | null;
  mailRetry: RetryPolicy;
  webhookRetry: RetryPolicy;
  webhooks: { allowPrivateAddresses: boolean; timeoutMs: number; maxResponseBytes: number };
  fleetWatch: { pendingMinutes: number; dropCount: number; dropWindowMinutes: number };
}

export const DEFAULT_MAIL_RETRY: RetryPolicy = {
  delaysMs: [10, 30, 120, 600, 1800, 3600].map((s) => s * 1000),
  maxAttempts: 40,
};
export const DEFAULT_WEBHOOK_RETRY: RetryPolicy = {
  delaysMs: [10, 60, 300, 1800, 7200, 21_600].map((s) => s * 1000),
  maxAttempts: 12,
};

export const DEFAULT_ACCOUNTS_CONFIG: AccountsConfig = {
  smtpUrl: null,
  mailFrom: 'Home Node <no-reply@homenode.invalid>',
  opsEmails: [],
  providers: [],
  secretFile: null,
  mailRetry: DEFAULT_MAIL_RETRY,
  webhookRetry: DEFAULT_WEBHOOK_RETRY,
  webhooks: { allowPrivateAddresses: false, timeoutMs: 10_000, maxResponseBytes: 64 * 1024 },
  fleetWatch: { pendingMinutes: 60, dropCount: 10, dropWindowMinutes: 5 },
};

type Env = Readonly<Record<string, string | undefined>>;

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

const ADDRESS = /^[^\s@<>"(),;:]+@[^\s@<>"(),;:]+\.[^\s@<>"(),;:]+$/;

function addressList(env: Env, name: string): string[] {
  const raw = env[name];
  if (!raw) return [];
  const list = raw
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  const bad = list.find((a) => !ADDRESS.test(a) || a.length > 254);
  if (bad !== undefined)
    throw new ConfigError(name, raw, `'${bad}' is not an email address; separate addresses with commas`);
  return list;
}

function mailFrom(env: Env, host: string): string {
  const raw = env.HOMENODE_MAIL_FROM;
  if (!raw) return `Home Node <no-reply@${host}>`;
  const address = /<([^<>]+)>\s*$/.exec(raw)?.[1] ?? raw.trim();
  if (/[\r\n]/.test(raw) || !ADDRESS.test(address) || raw.length > 300) {
    throw new ConfigError(
      'HOMENODE_MAIL_FROM',
      raw,
      'must be an address such as "Home Node <no-reply@homenode.example.com>" or no-reply@homenode.example.com',
    );
  }
  return raw.trim();
}

function smtpUrl(env: Env): string | null {
  const raw = env.HOMENODE_SMTP_URL;
  if (!raw) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    url = new URL('invalid:');
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new ConfigError(
      'HOMENODE_SMTP_URL',
      raw.replace(/\/\/[^@/]*@/, '//(credentials hidden)@'),
      'must be an smtp:// or smtps:// URL such as smtps://user:password@mail.example.com:465',
    );
  }
  return raw;
}

function retry(env: Env, prefix: string, fallback: RetryPolicy): RetryPolicy {
  const listName = `${prefix}_RETRY_SECONDS`;
  const raw = env[listName];
  let delaysMs = fallback.delaysMs;
  if (raw) {
    const values = raw.split(',').map((s) => Number(s.trim()));
    if (
      values.length === 0 ||
      values.length > 20 ||
      values.some((v) => !Number.isInteger(v) || v < 1 || v > 86_400)
    ) {
      throw new ConfigError(
        listName,
        raw,
        'must be a comma-separated list of seconds from 1 to 86400, e.g. 10,60,300',
      );
    }
    delaysMs = values.map((v) => v * 1000);
  }
  const maxAttempts = integer(env, `${prefix}_MAX_ATTEMPTS`, fallback.maxAttempts, 1, 1000);
  return { delaysMs, maxAttempts };
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(name, raw, `must be a whole number from ${min} to ${max}`);
  return value;
}

export function loadAccountsConfig(
  env: Env,
  publicUrl: string,
  read?: (p: string) => string,
): AccountsConfig {
  const d = DEFAULT_ACCOUNTS_CONFIG;
  const allow = env.HOMENODE_WEBHOOK_ALLOW_PRIVATE;
  return {
    smtpUrl: smtpUrl(env),
    mailFrom: mailFrom(env, new URL(publicUrl).hostname),
    opsEmails: addressList(env, 'HOMENODE_OPS_EMAIL'),
    providers: env.HOMENODE_OIDC_PROVIDERS ? loadProvidersFile(env.HOMENODE_OIDC_PROVIDERS, read) : [],
    secretFile: env.HOMENODE_SECRET_FILE || null,
    mailRetry: retry(env, 'HOMENODE_MAIL', d.mailRetry),
    webhookRetry: retry(env, 'HOMENODE_WEBHOOK', d.webhookRetry),
    webhooks: { ...d.webhooks, allowPrivateAddresses: allow === '1' || allow === 'true' },
    fleetWatch: {
      pendingMinutes: integer(env, 'HOMENODE_OPS_PENDING_MINUTES', d.fleetWatch.pendingMinutes, 1, 10_080),
      dropCount: integer(env, 'HOMENODE_OPS_DROP_COUNT', d.fleetWatch.dropCount, 2, 1_000_000),
      dropWindowMinutes: integer(
        env,
        'HOMENODE_OPS_DROP_WINDOW_MINUTES',
        d.fleetWatch.dropWindowMinutes,
        1,
        120,
      ),
    },
  };
}
