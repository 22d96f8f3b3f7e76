/** A node's latest heartbeat as facts and a GPU table. */
import { h, table } from './dom.js';
import { bytes } from './format.js';

export function metricsView(metrics: Record<string, unknown> | null): HTMLElement {
  if (!metrics) return h('p', { class: 'empty' }, 'No heartbeat received yet.');
  const num = (k: string) => (typeof metrics[k] === 'number' ? metrics[k] : undefined);
  const gpus = Array.isArray(metrics.gpus) ? (metrics.gpus as Record<string, number>[]) : [];
  const memUsed = num('memUsedBytes');
  const memTotal = num('memTotalBytes');
  return h(
    'div',
    null,
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Load (1, 5, 15 min)'),
      h('dd', null, [num('load1'), num('load5'), num('load15')].map((v) => v?.toFixed(2) ?? '—').join(' · ')),
      h('dt', null, 'Memory'),
      h('dd', null, memUsed !== undefined && memTotal ? `${bytes(memUsed)} of ${bytes(memTotal)}` : '—'),
      h('dt', null, 'Machine up for'),
      h(
        'dd',
        null,
        num('uptimeSeconds') !== undefined ? `${Math.round((num('uptimeSeconds') ?? 0) / 3600)} h` : '—',
      ),
    ),
    table(
      'GPU metrics',
      ['GPU', 'Utilisation', 'Memory', 'Temperature'],
      gpus.map((g) => [
        String(g.index ?? ''),
        `${g.utilizationPct ?? '—'}%`,
        g.memoryUsedBytes !== undefined && g.memoryTotalBytes
          ? `${bytes(g.memoryUsedBytes)} of ${bytes(g.memoryTotalBytes)}`
          : '—',
        `${g.temperatureC ?? '—'} °C`,
      ]),
      'No GPU metrics.',
    ),
  );
}
