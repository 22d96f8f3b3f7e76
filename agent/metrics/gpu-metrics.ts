/** `nvidia-smi` live figures for heartbeats: the query we run and a pure parser for its CSV. */
import type { NodeMetrics } from '../../protocol/control.js';

type GpuMetrics = NodeMetrics['gpus'][number];

export const GPU_METRIC_FIELDS = [
  'index',
  'uuid',
  'utilization.gpu',
  'memory.used',
  'memory.total',
  'temperature.gpu',
  'power.draw',
] as const;

export const GPU_METRICS_ARGS = [
  `--query-gpu=${GPU_METRIC_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
] as const;

const MIB = 1024 * 1024;

/** A number, or undefined for `[N/A]`, `[Not Supported]`, empty cells and garbage. */
function cell(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text.trim());
  return text.trim() !== '' && Number.isFinite(value) ? value : undefined;
}

const clamp = (value: number, low: number, high: number) => Math.min(high, Math.max(low, value));

/** One GPU per line; a line without an index is skipped, unknown figures become 0. */
export function parseGpuMetrics(stdout: string): GpuMetrics[] {
  const gpus: GpuMetrics[] = [];
  for (const line of stdout.split('\n')) {
    if (!line.trim()) continue;
    const cells = line.split(',').map((c) => c.trim());
    const index = cell(cells[0]);
    if (index === undefined || !Number.isInteger(index) || index < 0 || index > 255) continue;
    const uuid = cells[1];
    const power = cell(cells[6]);
    const gpu: GpuMetrics = {
      index,
      utilizationPct: clamp(cell(cells[2]) ?? 0, 0, 100),
      memoryUsedBytes: Math.max(0, Math.round((cell(cells[3]) ?? 0) * MIB)),
      memoryTotalBytes: Math.max(0, Math.round((cell(cells[4]) ?? 0) * MIB)),
      temperatureC: clamp(cell(cells[5]) ?? 0, -50, 200),
    };
    if (uuid && uuid.startsWith('GPU-')) gpu.uuid = uuid;
    if (power !== undefined && power >= 0) gpu.powerW = power;
    gpus.push(gpu);
  }
  return gpus;
}
