/** What every step of a join gets, and how a step says which part of the join failed. */
import type { JoinFailure } from '../../protocol/control.js';
import type { FetchDeps } from '../artifacts/fetch-artifact.js';
import type { DaemonConfig } from '../cli/daemon-config.js';
import type { Exec, ExecResult } from '../system/exec.js';

export interface JoinDeps {
  exec: Exec;
  config: DaemonConfig;
  stateDir: string;
  now: () => number;
  log: (event: string, message: string) => void;
  /** How artifacts are fetched (server URL, pin, node token, progress). */
  fetch: Omit<FetchDeps, 'releaseKey' | 'downloadDir'>;
}

/** A step that failed, with the part of the join it was (for the server's flag). */
export class JoinStepError extends Error {
  override readonly name = 'JoinStepError';
  constructor(
    readonly failure: JoinFailure | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export function must(result: ExecResult, failure: JoinFailure, what: string): ExecResult {
  if (!result.ok) throw new JoinStepError(failure, `${what}: ${result.problem}`);
  return result;
}
