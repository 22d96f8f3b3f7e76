/**
 * Shows the daemon's state: on a terminal the status screen, redrawn when something changes (and
 * each second while a countdown runs); elsewhere (systemd, tests) one plain line per event.
 */
import type { Output, Style } from './output.js';
import { type DaemonView, logLine, renderStatusScreen } from './status-screen.js';

const MAX_EVENTS = 20;

export function createStatusDisplay(out: Output, style: Style, now: () => number, initial: DaemonView) {
  let view: DaemonView = initial;
  let scheduled: NodeJS.Timeout | undefined;
  let ticker: NodeJS.Timeout | undefined;

  const draw = () => {
    scheduled = undefined;
    if (!out.isTTY) return;
    out.write(`\x1b[H\x1b[2J${renderStatusScreen(view, style, now()).join('\r\n')}`);
  };
  const redraw = () => {
    if (out.isTTY && !scheduled) scheduled = setTimeout(draw, 50);
  };
  const syncTicker = () => {
    const wanted = out.isTTY && view.connection === 'waiting';
    if (wanted && !ticker) ticker = setInterval(draw, 1000);
    if (!wanted && ticker) {
      clearInterval(ticker);
      ticker = undefined;
    }
  };
  if (out.isTTY) out.write('\x1b[?25l');
  redraw();

  return {
    get view(): DaemonView {
      return view;
    },
    update(change: Partial<DaemonView>): void {
      view = { ...view, ...change };
      syncTicker();
      redraw();
    },
    event(message: string): void {
      const line = logLine(now(), message);
      view = { ...view, events: [...view.events, line.slice(11, 19) + line.slice(24)].slice(-MAX_EVENTS) };
      if (out.isTTY) redraw();
      else out.write(`${line}\n`);
    },
    close(): void {
      clearTimeout(scheduled);
      if (ticker) clearInterval(ticker);
      ticker = undefined;
      if (out.isTTY) {
        draw();
        out.write('\r\n\x1b[?25h');
      }
    },
  };
}
export type StatusDisplay = ReturnType<typeof createStatusDisplay>;
