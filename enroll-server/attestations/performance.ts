/**
 * The public performance board (pure): per GPU class, how many attested nodes there are and the
 * p10, median and p90 of each benchmark figure from their latest passing audits, with the figures
 * per dollar of the availability price. A class with fewer than `MIN_NODES_FOR_FIGURES` nodes
 * shows its count only: with one or two machines a quantile is a machine's own figure
 * (docs/performance.md "Anonymity"). No node or owner id is ever part of the board.
 */
import { AUDIT_METRICS } from '../../protocol/audit.js';

export const MIN_NODES_FOR_FIGURES = 3;

/** The benchmark figures the board shows, and whether more is better. */
export const BOARD_FIGURES: readonly { name: string; higherIsBetter: boolean }[] = [
  { name: 'cpuEventsPerSecPerThread', higherIsBetter: true },
  { name: 'cpuEventsPerSec', higherIsBetter: true },
  { name: 'memoryReadMiBps', higherIsBetter: true },
  { name: 'memoryWriteMiBps', higherIsBetter: true },
  { name: 'diskRandReadIops', higherIsBetter: true },
  { name: 'diskRandWriteIops', higherIsBetter: true },
  { name: 'diskSeqReadMiBps', higherIsBetter: true },
  { name: 'diskSeqWriteMiBps', higherIsBetter: true },
  { name: 'shmWriteMiBps', higherIsBetter: true },
  { name: 'networkDownloadMbps', higherIsBetter: true },
  { name: 'networkUploadMbps', higherIsBetter: true },
  { name: 'networkRttMs', higherIsBetter: false },
];

/** One attested node as the board sees it: its class and its figures, nothing that names it. */
export interface BoardSample {
  gpuClass: string;
  gpus: number;
  figures: Readonly<Record<string, number>>;
}

export interface BoardFigure {
  name: string;
  unit: string;
  description: string;
  higherIsBetter: boolean;
  /** Nodes of the class that measured it. */
  samples: number;
  p10: number;
  median: number;
  p90: number;
  /** The median per US dollar of one GPU-hour of availability; null without a price. */
  medianPerUsd: number | null;
}

export interface BoardClass {
  gpuClass: string;
  nodes: number;
  gpus: number;
  /** From the rate card in force; null when it has no rate for the class (or there is no card). */
  availabilityUusdPerGpuHour: string | null;
  /** Empty when the class has fewer than `MIN_NODES_FOR_FIGURES` nodes. */
  figures: BoardFigure[];
}

const round2 = (v: number) => Math.round(v * 100) / 100;

/** The q-quantile of sorted values, linearly interpolated between closest ranks (R's type 7). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no values');
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

/** Where `value` stands among `values`: the share (0–100) of them it is at least as good as. */
export function percentileOf(values: readonly number[], value: number, higherIsBetter: boolean): number {
  if (values.length === 0) return 0;
  const atLeastAsGood = values.filter((v) => (higherIsBetter ? value >= v : value <= v)).length;
  return Math.round((atLeastAsGood / values.length) * 100);
}

function figureValues(samples: readonly BoardSample[], name: string): number[] {
  return samples
    .map((s) => s.figures[name])
    .filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
    .sort((a, b) => a - b);
}

export function computeBoard(
  samples: readonly BoardSample[],
  rates: Readonly<Record<string, { availabilityUusdPerGpuHour: string }>>,
): BoardClass[] {
  const byClass = new Map<string, BoardSample[]>();
  for (const s of samples) byClass.set(s.gpuClass, [...(byClass.get(s.gpuClass) ?? []), s]);
  return [...byClass.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([gpuClass, members]) => {
      const price = rates[gpuClass]?.availabilityUusdPerGpuHour ?? null;
      const usd = price === null ? 0 : Number(price) / 1_000_000;
      const figures: BoardFigure[] = [];
      if (members.length >= MIN_NODES_FOR_FIGURES) {
        for (const { name, higherIsBetter } of BOARD_FIGURES) {
          const values = figureValues(members, name);
          if (values.length < MIN_NODES_FOR_FIGURES) continue;
          const info = AUDIT_METRICS[name];
          const median = round2(quantile(values, 0.5));
          figures.push({
            name,
            unit: info?.unit ?? '',
            description: info?.description ?? name,
            higherIsBetter,
            samples: values.length,
            p10: round2(quantile(values, 0.1)),
            median,
            p90: round2(quantile(values, 0.9)),
            medianPerUsd: usd > 0 && higherIsBetter ? round2(median / usd) : null,
          });
        }
      }
      return {
        gpuClass,
        nodes: members.length,
        gpus: members.reduce((n, m) => n + m.gpus, 0),
        availabilityUusdPerGpuHour: price,
        figures,
      };
    });
}

export interface Standing {
  gpuClass: string;
  nodes: number;
  /** Empty when the class has fewer than `MIN_NODES_FOR_FIGURES` nodes. */
  figures: {
    name: string;
    unit: string;
    description: string;
    value: number;
    percentile: number;
    higherIsBetter: boolean;
  }[];
}

/** Where one node stands in its class, per figure (its own figures against the class's). */
export function standingIn(samples: readonly BoardSample[], own: BoardSample): Standing {
  const members = samples.filter((s) => s.gpuClass === own.gpuClass);
  const figures: Standing['figures'] = [];
  if (members.length >= MIN_NODES_FOR_FIGURES) {
    for (const { name, higherIsBetter } of BOARD_FIGURES) {
      const value = own.figures[name];
      const values = figureValues(members, name);
      if (value === undefined || values.length < MIN_NODES_FOR_FIGURES) continue;
      figures.push({
        name,
        unit: AUDIT_METRICS[name]?.unit ?? '',
        description: AUDIT_METRICS[name]?.description ?? name,
        value,
        percentile: percentileOf(values, value, higherIsBetter),
        higherIsBetter,
      });
    }
  }
  return { gpuClass: own.gpuClass, nodes: members.length, figures };
}
