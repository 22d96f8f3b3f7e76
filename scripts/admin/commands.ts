/** The operator CLI's commands, in the order `--help` lists them: each maps options to one API call. */
import { ACCOUNT_COMMANDS } from './account-commands.js';
import type { Command } from './command.js';
import { NODE_COMMANDS } from './node-commands.js';
import { PAYOUT_COMMANDS } from './payout-commands.js';
import { ROLLOUT_COMMANDS } from './rollout-commands.js';
import { SERVER_COMMANDS } from './server-commands.js';
import { SOFTWARE_COMMANDS } from './software-commands.js';

export type { Command, CommandContext, OptionSpec } from './command.js';

export const COMMANDS: Command[] = [
  ...ACCOUNT_COMMANDS,
  ...NODE_COMMANDS,
  ...PAYOUT_COMMANDS,
  ...SOFTWARE_COMMANDS,
  ...ROLLOUT_COMMANDS,
  ...SERVER_COMMANDS,
];
