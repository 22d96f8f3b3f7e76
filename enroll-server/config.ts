/**
 * Server configuration: parsed once, at the edge (main.ts), from the `HOMENODE_*` variables of
 * DESIGN.md "Running". Every error names the variable and the value that is wrong.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Compile } from 'typebox/compile';
import { type Policy, PolicyOverridesSchema, resolvePolicy } from '../protocol/policy.js';

export interface KeyLimits {
  defaultTtlHours: number;
  maxTtlHours: number;
  maxUses: number;
}

export interface EnrollRateLimit {
  /** Length of the window in which failed attempts are counted. */
  windowSeconds: number;
  /** Failed attempts allowed per key id within the window. */
  perKeyId: number;
  /** Failed attempts allowed per client address within the window. */
  perAddress: number;
}

export interface ServerConfig {
  dbPath: string;
  host: string;
  port: number;
  publicUrl: string;
  bootstrapToken?: string;
  policy: Policy;
  policyFile?: string;
  logLevel: string;
  trustProxy: boolean;
  keys: KeyLimits;
  enrollRateLimit: EnrollRateLimit;
}

export class ConfigError extends Error {
  constructor(variable: string, value: string, problem: string) {
    super(`${variable}=${JSON.stringify(value)}: ${problem}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_KEY_LIMITS: KeyLimits = { defaultTtlHours: 7 * 24, maxTtlHours: 90 * 24, maxUses: 1000 };
export const DEFAULT_ENROLL_RATE_LIMIT: EnrollRateLimit = {
  windowSeconds: 900,
  perKeyId: 10,
  perAddress: 30,
};

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const policyOverrides = Compile(PolicyOverridesSchema);

type Env = Readonly<Record<string, string | undefined>>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, raw, `must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Read and validate a policy file; its keys overlay the built-in defaults. */
export function loadPolicyFile(
  path: string,
  read: (p: string) => string = (p) => readFileSync(p, 'utf8'),
): Policy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(read(path));
  } catch (cause) {
    throw new ConfigError('HOMENODE_POLICY', path, `cannot read the policy file as JSON (${String(cause)})`);
  }
  if (!policyOverrides.Check(parsed)) {
    const problems = policyOverrides
      .Errors(parsed)
      .map((e) => `${e.instancePath || '/'} ${e.message}`)
      .join('; ');
    throw new ConfigError('HOMENODE_POLICY', path, `the policy file is not valid: ${problems}`);
  }
  return resolvePolicy(parsed);
}

export function loadConfig(env: Env, read?: (p: string) => string): ServerConfig {
  const host = env.HOMENODE_HOST || '127.0.0.1';
  const port = integer(env, 'HOMENODE_PORT', 8080, 0, 65_535);
  const bootstrapToken = env.HOMENODE_BOOTSTRAP_TOKEN || undefined;
  if (bootstrapToken !== undefined && (bootstrapToken.length < 24 || /\s/.test(bootstrapToken))) {
    throw new ConfigError(
      'HOMENODE_BOOTSTRAP_TOKEN',
      '(hidden)',
      'must be at least 24 characters without spaces (128 bits or more): e.g. `openssl rand -base64 32`',
    );
  }
  const publicUrl = env.HOMENODE_PUBLIC_URL || `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  try {
    new URL(publicUrl);
  } catch {
    throw new ConfigError(
      'HOMENODE_PUBLIC_URL',
      publicUrl,
      'must be an absolute URL such as https://homenode.example.com',
    );
  }
  const logLevel = env.HOMENODE_LOG_LEVEL || 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('HOMENODE_LOG_LEVEL', logLevel, `must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const policyFile = env.HOMENODE_POLICY ? resolve(env.HOMENODE_POLICY) : undefined;
  return {
    dbPath: env.HOMENODE_DB || './data/homenode.db',
    host,
    port,
    publicUrl: publicUrl.replace(/\/+$/, ''),
    bootstrapToken,
    policy: policyFile ? loadPolicyFile(policyFile, read) : resolvePolicy(),
    policyFile,
    logLevel,
    trustProxy: env.HOMENODE_TRUST_PROXY === '1' || env.HOMENODE_TRUST_PROXY === 'true',
    keys: DEFAULT_KEY_LIMITS,
    enrollRateLimit: {
      windowSeconds: integer(
        env,
        'HOMENODE_ENROLL_WINDOW_SECONDS',
        DEFAULT_ENROLL_RATE_LIMIT.windowSeconds,
        1,
        86_400,
      ),
      perKeyId: integer(
        env,
        'HOMENODE_ENROLL_MAX_FAILURES_PER_KEY',
        DEFAULT_ENROLL_RATE_LIMIT.perKeyId,
        1,
        1_000_000,
      ),
      perAddress: integer(
        env,
        'HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS',
        DEFAULT_ENROLL_RATE_LIMIT.perAddress,
        1,
        1_000_000,
      ),
    },
  };
}
