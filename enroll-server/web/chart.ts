/**
 * Bar charts drawn as SVG (no library): earnings per period (labels use bigint money) and an
 * audit benchmark's figures over time. Geometry uses numbers.
 */
import { s } from './dom.js';
import { formatUsd } from './money.js';

export interface Bar {
  label: string;
  uusd: bigint;
  estimate: boolean;
}

/** One bar: its height as a share of the tallest (0..1), the text above it and below it. */
interface DrawnBar {
  share: number;
  value: string;
  label: string;
  className: string;
}

function barChart(bars: readonly DrawnBar[], ariaLabel: string, width = 640, height = 220): SVGSVGElement {
  const pad = { top: 24, bottom: 36, left: 8, right: 8 };
  const slot = (width - pad.left - pad.right) / Math.max(1, bars.length);
  const barWidth = Math.min(64, slot * 0.6);
  const plot = height - pad.top - pad.bottom;
  return s(
    'svg',
    { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': ariaLabel },
    s('line', {
      x1: pad.left,
      x2: width - pad.right,
      y1: height - pad.bottom,
      y2: height - pad.bottom,
      class: 'axis',
    }),
    bars.map((b, i) => {
      const h = Math.max(2, b.share * plot);
      const x = pad.left + slot * i + (slot - barWidth) / 2;
      const y = height - pad.bottom - h;
      return s(
        'g',
        null,
        s('rect', { x, y, width: barWidth, height: h, rx: 3, class: b.className }),
        s('text', { x: x + barWidth / 2, y: y - 6, 'text-anchor': 'middle', class: 'bar-value' }, b.value),
        s(
          'text',
          { x: x + barWidth / 2, y: height - pad.bottom + 18, 'text-anchor': 'middle', class: 'bar-label' },
          b.label,
        ),
      );
    }),
  );
}

export function earningsChart(bars: readonly Bar[], title: string): SVGSVGElement {
  const max = bars.reduce((m, b) => (b.uusd > m ? b.uusd : m), 1n);
  return barChart(
    bars.map((b) => {
      const positive = b.uusd > 0n ? b.uusd : 0n;
      return {
        share: Number((positive * 1000n) / max) / 1000,
        value: formatUsd(b.uusd),
        label: b.estimate ? `${b.label} (est.)` : b.label,
        className: b.estimate ? 'bar bar-estimate' : 'bar',
      };
    }),
    `${title}: ${bars.map((b) => `${b.label} ${formatUsd(b.uusd)}${b.estimate ? ' (estimate)' : ''}`).join(', ')}`,
  );
}

export interface FigurePoint {
  label: string;
  value: number;
  /** A failed audit's figure is drawn as a warning. */
  failed: boolean;
}

/** One benchmark's figure per audit, oldest first (e.g. disk random-read IOPS). */
export function figureChart(points: readonly FigurePoint[], title: string, unit: string): SVGSVGElement {
  const max = points.reduce((m, p) => Math.max(m, p.value), 0) || 1;
  const text = (v: number) => `${v >= 100 ? Math.round(v) : Number(v.toPrecision(3))}`;
  return barChart(
    points.map((p) => ({
      share: Math.max(0, p.value) / max,
      value: text(p.value),
      label: p.label,
      className: p.failed ? 'bar bar-failed' : 'bar',
    })),
    `${title} (${unit}): ${points.map((p) => `${p.label} ${text(p.value)}${p.failed ? ' (failed audit)' : ''}`).join(', ')}`,
    640,
    160,
  );
}
