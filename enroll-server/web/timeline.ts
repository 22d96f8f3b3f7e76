/** A node's presence over the last days as an SVG strip: green where the control channel was up. */
import { s } from './dom.js';
import { percent } from './format.js';

export interface PresenceTimeline {
  from: string;
  to: string;
  intervals: readonly { start: string; end: string; open: boolean }[];
}

export function presenceStrip(t: PresenceTimeline): SVGSVGElement {
  const from = Date.parse(t.from);
  const span = Math.max(1, Date.parse(t.to) - from);
  const width = 1000;
  const x = (iso: string) => ((Date.parse(iso) - from) / span) * width;
  const up = t.intervals.reduce((sum, i) => sum + (Date.parse(i.end) - Date.parse(i.start)), 0);
  const days = Math.round(span / 86_400_000);
  const ticks = Array.from({ length: days + 1 }, (_, d) => d);
  return s(
    'svg',
    {
      class: 'timeline',
      viewBox: `0 0 ${width} 48`,
      preserveAspectRatio: 'none',
      role: 'img',
      'aria-label': `Online ${percent(up / span)} of the last ${days} days, in ${t.intervals.length} session(s).`,
    },
    s('rect', { x: 0, y: 4, width, height: 28, class: 'timeline-off' }),
    t.intervals.map((i) => {
      // Short sessions are drawn at least 4 units wide, inside the strip, so they stay visible.
      const w = Math.max(4, x(i.end) - x(i.start));
      return s('rect', {
        x: Math.min(x(i.start), width - w),
        y: 4,
        width: w,
        height: 28,
        class: 'timeline-on',
      });
    }),
    ticks.map((d) =>
      s('line', { x1: (d / days) * width, x2: (d / days) * width, y1: 32, y2: 38, class: 'axis' }),
    ),
  );
}
