/** Runs one command with a ready context and turns known errors into messages and exit codes. */
import { StateFileError } from '../state/state-store.js';
import { PromptCancelledError } from '../ui/key-prompt.js';
import { UsageError, type CommandName } from './args.js';
import { preflightCommand, resetCommand, runCommand, statusCommand } from './commands.js';
import { EXIT, type AgentContext } from './context.js';
import { enrollFlow } from './enroll-flow.js';

const HANDLERS: Record<CommandName, (ctx: AgentContext) => Promise<number>> = {
  run: runCommand,
  preflight: preflightCommand,
  enroll: enrollFlow,
  status: statusCommand,
  reset: resetCommand,
  // Loaded when used: the audit suite is not needed by the other commands.
  audit: async (ctx) => (await import('./audit-command.js')).auditCommand(ctx),
};

export async function dispatch(command: CommandName, ctx: AgentContext): Promise<number> {
  try {
    return await HANDLERS[command](ctx);
  } catch (error) {
    if (error instanceof UsageError) {
      ctx.err.write(`${ctx.style.red(error.message)}\nSee --help.\n`);
      return EXIT.USAGE;
    }
    if (error instanceof PromptCancelledError) {
      ctx.err.write('\nStopped. Nothing more was sent; run the agent again to continue.\n');
      return EXIT.INTERRUPTED;
    }
    if (error instanceof StateFileError) {
      ctx.err.write(
        `${ctx.style.red(error.message)}\nThe agent's state is damaged. Move the file aside and run again, or run "reset --yes".\n`,
      );
      return EXIT.USAGE;
    }
    throw error;
  }
}
