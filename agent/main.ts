/**
 * The agent's entry point (`npm run agent -- <command>`): the only file that reads argv and the
 * environment. It builds the context, runs the command and makes sure the terminal is left usable.
 */
import { basename } from 'node:path';
import { UsageError, parseCliArgs, type CliArgs } from './cli/args.js';
import { loadConfig } from './cli/config.js';
import { EXIT, type AgentContext } from './cli/context.js';
import { dispatch } from './cli/dispatch.js';
import { HELP_TEXT } from './cli/help.js';
import { createHttpClient } from './net/http-request.js';
import { resolveHost } from './probe/connectivity.js';
import { createProgramRunner } from './probe/run-program.js';
import { createKeyPrompt } from './ui/key-prompt.js';
import { createStyle, outputWidth, type Output } from './ui/output.js';

function outputFor(stream: NodeJS.WriteStream): Output {
  return {
    write: (text) => void stream.write(text),
    isTTY: stream.isTTY,
    width: outputWidth(stream.isTTY ? stream.columns : undefined),
  };
}

/** Show the cursor and leave raw mode, whatever happened (a prompt may have hidden the cursor). */
function restoreTerminal(): void {
  if (process.stdin.isTTY && process.stdin.isRaw) process.stdin.setRawMode(false);
  if (process.stdout.isTTY) process.stdout.write('\x1b[?25h');
}

let stopHandler: ((signal: string) => void) | undefined;

function onStop(handler: (signal: string) => void): () => void {
  stopHandler = handler;
  return () => {
    if (stopHandler === handler) stopHandler = undefined;
  };
}

function shellEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('HOMENODE_')) env[k] = v;
  return env;
}

/** `npm run agent --` from the repository, else the program's own name (`homenode-agent` on the ISO). */
function agentCommand(): string {
  const name = basename(process.argv[1] ?? '').replace(/\.(mjs|js|ts)$/, '');
  return process.env.npm_lifecycle_event === 'agent' || name === 'main' || name === ''
    ? 'npm run agent --'
    : name;
}

async function buildContext(args: CliArgs): Promise<AgentContext> {
  const config = await loadConfig(args);
  const colour = process.stdout.isTTY && process.env.NO_COLOR === undefined && process.env.TERM !== 'dumb';
  const style = createStyle(colour);
  return {
    args,
    config,
    out: outputFor(process.stdout),
    err: outputFor(process.stderr),
    style,
    envKey: process.env.HOMENODE_KEY || undefined,
    interactive: process.stdin.isTTY && process.stdout.isTTY,
    askKey: createKeyPrompt(
      style,
      { input: process.stdin, output: process.stdout },
      outputWidth(process.stdout.isTTY ? process.stdout.columns : undefined),
    ),
    http: createHttpClient({ serverPin: config.serverPin }),
    runProgram: createProgramRunner(),
    resolve: resolveHost,
    now: Date.now,
    random: Math.random,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    onStop,
    agentCommand: agentCommand(),
    shellEnv: shellEnv(),
  };
}

async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  let ctx: AgentContext;
  try {
    args = parseCliArgs(argv);
    if (args.command === 'help') {
      process.stdout.write(HELP_TEXT);
      return EXIT.OK;
    }
    ctx = await buildContext(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`${error.message}\nSee --help.\n`);
    return EXIT.USAGE;
  }
  return dispatch(args.command, ctx);
}

let signalled = false;
function onSignal(signal: NodeJS.Signals): void {
  // The daemon says bye first; a second signal, or none registered, stops at once.
  if (stopHandler && !signalled) {
    signalled = true;
    stopHandler(signal);
    return;
  }
  restoreTerminal();
  process.stderr.write('\nStopped. Run the agent again to continue where it stopped.\n');
  process.exit(signal === 'SIGINT' ? EXIT.INTERRUPTED : 143);
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
process.on('exit', restoreTerminal);

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    restoreTerminal();
    process.stderr.write(
      `The agent stopped because of an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 70;
  },
);
