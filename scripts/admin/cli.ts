/** `npm run admin -- <command>`: parse argv, find the command, call the API, print the answer. */
import { parseArgs } from 'node:util';
import { ApiError, createApiClient } from './client.js';
import { COMMANDS, type Command } from './commands.js';

export interface AdminIo {
  out(text: string): void;
  err(text: string): void;
  fetch?: typeof fetch;
}

const GLOBAL_OPTIONS = {
  url: { type: 'string', description: 'enroll-server URL (default $HOMENODE_URL or http://127.0.0.1:8080)' },
  token: { type: 'string', description: 'API token (default $HOMENODE_TOKEN)' },
  json: { type: 'boolean', description: 'print the API answer as JSON' },
  help: { type: 'boolean', description: 'show help' },
} as const;

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => [c.name, ...(c.args ?? [])].join(' ').length));
  return [
    'Usage: npm run admin -- <command> [options]',
    '',
    'Operator CLI for the Home Node enroll-server (HOMENODE_URL, HOMENODE_TOKEN).',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${[c.name, ...(c.args ?? [])].join(' ').padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    ...Object.entries(GLOBAL_OPTIONS).map(([k, o]) => `  --${k.padEnd(8)} ${o.description}`),
    '',
    "Run `npm run admin -- <command> --help` for a command's options.",
  ].join('\n');
}

function commandHelp(c: Command): string {
  const options = Object.entries(c.options ?? {}).map(
    ([k, o]) =>
      `  --${k}${o.type === 'string' ? ' VALUE' : ''}${o.required ? ' (required)' : ''}  ${o.description}`,
  );
  return [
    `Usage: npm run admin -- ${[c.name, ...(c.args ?? [])].join(' ')} [options]`,
    '',
    c.summary,
    ...(options.length ? ['', 'Options:', ...options] : []),
    '',
    'Also: --json, --url, --token',
  ].join('\n');
}

function findCommand(positionals: string[]): Command | undefined {
  for (const words of [2, 1]) {
    const name = positionals.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command) return command;
  }
  return undefined;
}

/** Runs one CLI invocation; returns the process exit code (0 ok, 1 API/network error, 2 usage). */
export async function runAdmin(
  argv: string[],
  env: { url?: string; token?: string },
  io: AdminIo,
): Promise<number> {
  const loose = parseArgs({ args: argv, options: {}, strict: false, allowPositionals: true });
  const command = findCommand(loose.positionals);
  if (!command) {
    const wanted = loose.positionals.join(' ');
    if (wanted && !loose.values.help) io.err(`Unknown command "${wanted}".\n`);
    io[wanted && !loose.values.help ? 'err' : 'out'](usage());
    return wanted && !loose.values.help ? 2 : 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...GLOBAL_OPTIONS, ...(command.options ?? {}) },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${commandHelp(command)}`);
    return 2;
  }
  const values: Record<string, string | boolean | undefined> = parsed.values;
  if (values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  const missing = Object.entries(command.options ?? {}).find(
    ([k, o]) => o.required && values[k] === undefined,
  );
  // From the strict parse: an option's value (`--name k3s`) is not a positional, wherever FILE is.
  const args = parsed.positionals.slice(command.name.split(' ').length);
  if (missing || args.length < (command.args?.length ?? 0)) {
    io.err(
      `${missing ? `Missing --${missing[0]}.` : `Missing ${command.args?.join(' ')}.`}\n\n${commandHelp(command)}`,
    );
    return 2;
  }
  const url = (typeof values.url === 'string' ? values.url : undefined) ?? env.url ?? 'http://127.0.0.1:8080';
  const token = (typeof values.token === 'string' ? values.token : undefined) ?? env.token;
  if (!token && !command.local) {
    io.err(
      'No API token: set HOMENODE_TOKEN (or pass --token). The server prints the first admin token when it starts on an empty database.',
    );
    return 2;
  }
  try {
    const result = await command.run({ api: createApiClient(url, token, io.fetch), options: values, args });
    io.out(
      values.json || !command.render
        ? JSON.stringify(result, null, 2)
        : (command.render as (r: unknown) => string)(result),
    );
    return 0;
  } catch (error) {
    if (error instanceof ApiError) {
      io.err(
        values.json
          ? JSON.stringify(
              { error: { code: error.code, message: error.message, details: error.details } },
              null,
              2,
            )
          : `Error ${error.status} ${error.code}: ${error.message}`,
      );
    } else {
      io.err(`Error: ${(error as Error).message}`);
    }
    return 1;
  }
}
