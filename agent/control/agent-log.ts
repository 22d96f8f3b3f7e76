/**
 * The daemon's readable log file in the state dir: one line per event (`time level event message`),
 * appended in order, rotated to `.1` past 1 MiB. Writing never stops the agent.
 */
import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

export const LOG_ROTATE_BYTES = 1024 * 1024;

export type LogLevel = 'info' | 'warn' | 'error';

export function createAgentLog(path: string, now: () => number) {
  let chain: Promise<void> = mkdir(dirname(path), { recursive: true, mode: 0o700 }).then(
    () => undefined,
    () => undefined,
  );
  let written = 0;
  const rotateIfBig = async () => {
    try {
      if ((await stat(path)).size > LOG_ROTATE_BYTES) await rename(path, `${path}.1`);
    } catch {
      // no file yet
    }
  };
  chain = chain.then(rotateIfBig);
  return {
    path,
    write(level: LogLevel, event: string, message: string): void {
      const line = `${new Date(now()).toISOString()} ${level.padEnd(5)} ${event} ${message.replace(/\n/g, ' ')}\n`;
      written += line.length;
      const check = written > 64 * 1024;
      if (check) written = 0;
      chain = chain
        .then(() => (check ? rotateIfBig() : undefined))
        .then(() => appendFile(path, line, { mode: 0o600 }))
        .catch(() => undefined);
    },
    flush: (): Promise<void> => chain,
  };
}
export type AgentLog = ReturnType<typeof createAgentLog>;
