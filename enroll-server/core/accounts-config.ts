/**
 * Configuration of owner accounts and notifications (docs/accounts.md), read once at the edge from
 * the `HOMENODE_SMTP_*`, `HOMENODE_MAIL_*`, `HOMENODE_OIDC_PROVIDERS`, `HOMENODE_WEBHOOK_*` and
 * `HOMENODE_OPS_*` variables. Every error names the variable and what to write instead.
 */
import { ConfigError } from './config-error.js';
import { type SignInProviderConfig, loadProvidersFile } from './sign-in-providers-config.js';

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
