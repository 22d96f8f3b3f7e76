/** A visible countdown while the agent waits to retry (one redrawn line on a terminal). */
import type { RetryNotice } from '../enroll/enroll.js';
import type { Output, Style } from './output.js';

export type Sleep = (ms: number) => Promise<void>;

export function reasonLine(notice: RetryNotice): string {
  return `Could not enroll yet: ${notice.reason}.`;
}

export function countdownLine(notice: RetryNotice, secondsLeft: number): string {
  return `Retrying in ${secondsLeft} s (attempt ${notice.attempt + 1} of ${notice.maxAttempts}) ...`;
}

export function createCountdownWait(out: Output, style: Style, sleep: Sleep) {
  return async (delayMs: number, notice: RetryNotice): Promise<void> => {
    let left = delayMs;
    out.write(`${style.yellow(reasonLine(notice))}\n`);
    if (!out.isTTY) {
      out.write(`${countdownLine(notice, Math.ceil(left / 1000))}\n`);
      await sleep(left);
      return;
    }
    while (left > 0) {
      const line = countdownLine(notice, Math.ceil(left / 1000)).slice(0, out.width);
      out.write(`\r\x1b[K${line}`);
      const step = Math.min(left, left % 1000 || 1000);
      await sleep(step);
      left -= step;
    }
    out.write('\r\x1b[K');
  };
}
