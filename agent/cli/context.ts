/** Everything a command needs, wired once in main.ts and passed in (no globals, no env reads). */
import type { HttpClient } from '../net/http-request.js';
import type { ResolveHost } from '../probe/connectivity.js';
import type { RunProgram } from '../probe/run-program.js';
import type { Sleep } from '../ui/countdown.js';
import type { AskKey } from '../ui/key-prompt.js';
import type { Output, Style } from '../ui/output.js';
import type { CliArgs } from './args.js';
import type { AgentConfig } from './config.js';

export interface AgentContext {
  args: CliArgs;
  config: AgentConfig;
  out: Output;
  /** Notes that must not mix with `--json` output. */
  err: Output;
  style: Style;
  /** The key from `HOMENODE_KEY`, for unattended installs. */
  envKey: string | undefined;
  /** True when a person can answer prompts (stdin and stdout are terminals). */
  interactive: boolean;
  askKey: AskKey;
  http: HttpClient;
  runProgram: RunProgram;
  resolve: ResolveHost;
  now: () => number;
  random: () => number;
  sleep: Sleep;
  /**
   * Take over SIGTERM/SIGINT (the daemon says `bye` before it exits); returns the undo. Without a
   * handler a signal stops the agent at once.
   */
  onStop: (handler: (signal: string) => void) => () => void;
  /** How the person started the agent, for hints: `npm run agent --` or `homenode-agent`. */
  agentCommand: string;
  /** The environment for remote shells (main.ts reads it; nothing else does). */
  shellEnv: Record<string, string>;
}

/** Exit codes (documented in docs/agent.md and `--help`). */
export const EXIT = {
  OK: 0,
  CHECK_FAILED: 1,
  USAGE: 2,
  KEY_REFUSED: 3,
  ENROLL_REFUSED: 4,
  UNREACHABLE: 5,
  NOT_ENROLLED: 6,
  /** The daemon stopped because the server refuses this node (revoked or rejected). */
  NODE_REFUSED: 7,
  /** Ops asked the agent to restart (`restart-agent`); systemd starts it again. */
  RESTART: 75,
  INTERRUPTED: 130,
} as const;
