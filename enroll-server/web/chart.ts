/** Bar chart of earnings per period, drawn as SVG (no library). Geometry uses numbers; labels use bigint money. */
import { s } from './dom.js';
import { formatUsd } from './money.js';

export interface Bar {
  label: string;
  uusd: bigint;
  estimate: boolean;
}

export function earningsChart(bars: readonly Bar[], title: string): SVGSVGElement {
  const width = 640;
  const height = 220;
  const pad = { top: 24, bottom: 36, left: 8, right: 8 };
  const max = bars.reduce((m, b) => (b.uusd > m ? b.uusd : m), 1n);
  const slot = (width - pad.left - pad.right) / Math.max(1, bars.length);
  const barWidth = Math.min(64, slot * 0.6);
  const plot = height - pad.top - pad.bottom;
  return s(
    'svg',
    {
      class: 'chart',
      viewBox: `0 0 ${width} ${height}`,
      role: 'img',
      'aria-label': `${title}: ${bars.map((b) => `${b.label} ${formatUsd(b.uusd)}${b.estimate ? ' (estimate)' : ''}`).join(', ')}`,
    },
    s('line', {
      x1: pad.left,
      x2: width - pad.right,
      y1: height - pad.bottom,
      y2: height - pad.bottom,
      class: 'axis',
    }),
    bars.map((b, i) => {
      const positive = b.uusd > 0n ? b.uusd : 0n;
      const h = Math.max(2, (Number((positive * 1000n) / max) / 1000) * plot);
      const x = pad.left + slot * i + (slot - barWidth) / 2;
      const y = height - pad.bottom - h;
      return s(
        'g',
        null,
        s('rect', {
          x,
          y,
          width: barWidth,
          height: h,
          rx: 3,
          class: b.estimate ? 'bar bar-estimate' : 'bar',
        }),
        s(
          'text',
          { x: x + barWidth / 2, y: y - 6, 'text-anchor': 'middle', class: 'bar-value' },
          formatUsd(b.uusd),
        ),
        s(
          'text',
          { x: x + barWidth / 2, y: height - pad.bottom + 18, 'text-anchor': 'middle', class: 'bar-label' },
          b.estimate ? `${b.label} (est.)` : b.label,
        ),
      );
    }),
  );
}
