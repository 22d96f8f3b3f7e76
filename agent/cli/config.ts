/**
 * The agent's configuration: the config file (`--config`, default /etc/homenode/config.json, as
 * written into the ISO) overlaid with flags. Validated once; errors name the file and the field.
 */
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { DEFAULT_BACKOFF, type BackoffOptions } from '../enroll/backoff.js';
import { DEFAULT_MAX_ATTEMPTS } from '../enroll/enroll.js';
import { readTextIfExists } from '../state/atomic-file.js';
import { checkServerUrl } from '../../protocol/server-url.js';
import { UsageError, type CliArgs } from './args.js';
import { DaemonFileSchema, resolveDaemonConfig, type DaemonConfig } from './daemon-config.js';

export const DEFAULT_CONFIG_PATH = '/etc/homenode/config.json';
export const DEFAULT_STATE_DIR = '/var/lib/homenode';

const ConfigFileSchema = Type.Object({
  serverUrl: Type.Optional(Type.String({ minLength: 1 })),
  stateDir: Type.Optional(Type.String({ minLength: 1 })),
  serverPin: Type.Optional(Type.String({ pattern: '^sha256/[A-Za-z0-9+/]{43}=$' })),
  /** Plain http to a server that is not on this machine (a test network); the screens warn. */
  allowInsecureHttp: Type.Optional(Type.Boolean()),
  /** Enrollment retries on network errors, 429 and 5xx (defaults: 10 attempts, 1 s doubling to 60 s). */
  retry: Type.Optional(
    Type.Object({
      maxAttempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
      baseDelayMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 600_000 })),
      maxDelayMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
    }),
  ),
  ...DaemonFileSchema.properties,
});
type ConfigFile = Static<typeof ConfigFileSchema>;
const ConfigFile = Compile(ConfigFileSchema);

export interface AgentConfig {
  serverUrl: string | undefined;
  stateDir: string;
  serverPin: string | undefined;
  /** Plain http to a non-loopback server was allowed (flag or config file). */
  allowInsecureHttp: boolean;
  /** The configured server URL is plain http to another machine: every screen warns. */
  insecureHttp: boolean;
  retry: { maxAttempts: number; backoff: BackoffOptions };
  /** The control-channel daemon: intervals, paths, remote shell (docs/control-channel.md). */
  daemon: DaemonConfig;
}

export async function loadConfig(args: CliArgs): Promise<AgentConfig> {
  const path = args.config ?? DEFAULT_CONFIG_PATH;
  const text = await readTextIfExists(path);
  if (text === undefined && args.config !== undefined)
    throw new UsageError(`The config file ${path} does not exist.`);
  const file = text === undefined ? {} : parseConfigFile(path, text);
  const serverUrl = args.server ?? file.serverUrl;
  const allowInsecureHttp = args.allowInsecureHttp || file.allowInsecureHttp === true;
  const insecureHttp =
    serverUrl === undefined ? false : requireServerUrl(serverUrl, allowInsecureHttp, file.serverPin);
  const stateDir = args.stateDir ?? file.stateDir ?? DEFAULT_STATE_DIR;
  return {
    serverUrl,
    stateDir,
    serverPin: file.serverPin,
    allowInsecureHttp,
    insecureHttp,
    retry: {
      maxAttempts: file.retry?.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      backoff: {
        baseMs: file.retry?.baseDelayMs ?? DEFAULT_BACKOFF.baseMs,
        capMs: file.retry?.maxDelayMs ?? DEFAULT_BACKOFF.capMs,
      },
    },
    daemon: resolveDaemonConfig(file, stateDir, join),
  };
}

export function parseConfigFile(path: string, text: string): ConfigFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`The config file ${path} is not valid JSON.`);
  }
  if (!ConfigFile.Check(value)) {
    const first = ConfigFile.Errors(value)[0];
    const where = first?.instancePath ? ` at ${first.instancePath}` : '';
    throw new UsageError(
      `The config file ${path} is not valid${where}: ${first?.message ?? 'unexpected content'}.`,
    );
  }
  return value;
}

/**
 * The server URL rule (protocol/server-url.ts) as a usage error naming this agent's switches;
 * true when the URL is plain http to another machine (allowed, and warned about on every screen).
 */
export function requireServerUrl(url: string, allowInsecureHttp: boolean, serverPin?: string): boolean {
  const checked = checkServerUrl(url, { allowInsecureHttp });
  if (!checked.ok) {
    throw new UsageError(
      checked.problem === 'insecure-http'
        ? `${checked.reason} To allow it: --allow-insecure-http, or "allowInsecureHttp": true in the config file.`
        : checked.reason,
    );
  }
  if (serverPin !== undefined && new URL(checked.url).protocol === 'http:') {
    throw new UsageError(
      `The config sets serverPin, but the server URL "${url}" is plain http://, where no key can be ` +
        'pinned. Use the https:// address of the server, or remove serverPin.',
    );
  }
  return checked.insecure;
}
