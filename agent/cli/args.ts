/** Command-line parsing (node:util parseArgs): argv in, a typed command or a usage error out. */
import { parseArgs } from 'node:util';

export const COMMANDS = ['run', 'preflight', 'enroll', 'status', 'reset', 'audit'] as const;
export type CommandName = (typeof COMMANDS)[number];

export interface CliArgs {
  command: CommandName | 'help';
  server?: string | undefined;
  stateDir?: string | undefined;
  config?: string | undefined;
  json: boolean;
  facts?: string | undefined;
  key?: string | undefined;
  yes: boolean;
  /** `--allow-insecure-http`: plain http to a non-loopback server, shown as a warning. */
  allowInsecureHttp: boolean;
  /** audit: health checks only, no benchmarks. */
  light?: boolean;
  /** audit: the GPU UUIDs that must be present, comma-separated. */
  expectGpus?: string | undefined;
}

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const OPTIONS = {
  server: { type: 'string' },
  'state-dir': { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  facts: { type: 'string' },
  key: { type: 'string' },
  yes: { type: 'boolean', default: false },
  'allow-insecure-http': { type: 'boolean', default: false },
  light: { type: 'boolean', default: false },
  'expect-gpus': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/**
 * Which options each command accepts besides the common ones (`--server`, `--state-dir`,
 * `--config`, `--allow-insecure-http`).
 */
const ALLOWED: Record<CommandName, readonly string[]> = {
  run: ['key', 'facts'],
  preflight: ['json', 'facts'],
  enroll: ['key', 'facts'],
  status: ['json'],
  reset: ['yes'],
  audit: ['json', 'light', 'expect-gpus'],
};

export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const [name, ...extra] = positionals;
  if (values.help || name === undefined || name === 'help')
    return { command: 'help', json: false, yes: false, allowInsecureHttp: false };
  if (!isCommand(name)) throw new UsageError(`Unknown command "${name}". Commands: ${COMMANDS.join(', ')}.`);
  if (extra.length) throw new UsageError(`Unexpected argument "${extra[0]}" after "${name}".`);
  for (const option of ['json', 'facts', 'key', 'yes', 'light', 'expect-gpus'] as const) {
    const given =
      option === 'json' || option === 'yes' || option === 'light'
        ? values[option]
        : values[option] !== undefined;
    if (given && !ALLOWED[name].includes(option)) {
      throw new UsageError(`The option --${option} does not apply to "${name}".`);
    }
  }
  return {
    command: name,
    server: values.server,
    stateDir: values['state-dir'],
    config: values.config,
    json: values.json,
    facts: values.facts,
    key: values.key,
    yes: values.yes,
    allowInsecureHttp: values['allow-insecure-http'],
    light: values.light,
    expectGpus: values['expect-gpus'],
  };
}

function isCommand(name: string): name is CommandName {
  return (COMMANDS as readonly string[]).includes(name);
}
