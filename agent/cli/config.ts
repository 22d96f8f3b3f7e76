/**
 * The agent's configuration: the config file (`--config`, default /etc/homenode/config.json, as
 * written into the ISO) overlaid with flags. Validated once; errors name the file and the field.
 */
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { readTextIfExists } from '../state/atomic-file.js';
import { UsageError, type CliArgs } from './args.js';

export const DEFAULT_CONFIG_PATH = '/etc/homenode/config.json';
export const DEFAULT_STATE_DIR = '/var/lib/homenode';

const ConfigFileSchema = Type.Object({
  serverUrl: Type.Optional(Type.String({ minLength: 1 })),
  stateDir: Type.Optional(Type.String({ minLength: 1 })),
  serverPin: Type.Optional(Type.String({ pattern: '^sha256/[A-Za-z0-9+/]{43}=$' })),
});
type ConfigFile = Static<typeof ConfigFileSchema>;
const ConfigFile = Compile(ConfigFileSchema);

export interface AgentConfig {
  serverUrl: string | undefined;
  stateDir: string;
  serverPin: string | undefined;
}

export async function loadConfig(args: CliArgs): Promise<AgentConfig> {
  const path = args.config ?? DEFAULT_CONFIG_PATH;
  const text = await readTextIfExists(path);
  if (text === undefined && args.config !== undefined)
    throw new UsageError(`The config file ${path} does not exist.`);
  const file = text === undefined ? {} : parseConfigFile(path, text);
  const serverUrl = args.server ?? file.serverUrl;
  if (serverUrl !== undefined) checkServerUrl(serverUrl);
  return {
    serverUrl,
    stateDir: args.stateDir ?? file.stateDir ?? DEFAULT_STATE_DIR,
    serverPin: file.serverPin,
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

function checkServerUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `The server URL "${url}" is not a URL (expected e.g. https://homenode.example.com).`,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UsageError(`The server URL "${url}" must start with https:// (or http:// for tests).`);
  }
}
