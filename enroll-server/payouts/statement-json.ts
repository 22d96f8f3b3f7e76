/** The statement as JSON (DESIGN.md "Payouts"), its canonical form and its SHA-256. */
import { createHash } from 'node:crypto';
import type { StatementLine, StatementTotals } from './statement.js';

export interface StatementJson {
  periodId: string;
  start: string;
  end: string;
  status: string;
  rateCardVersion: number;
  hash?: string;
  lines: LineJson[];
  totals: TotalsJson;
}

export interface LineJson {
  nodeId: string;
  ownerId: string;
  gpuClass: string;
  periodMinutes: number;
  upMinutes: number;
  creditedMinutes: number;
  unverifiedMinutes: number;
  workloadGpuMinutes: number;
  uptimeTier: string;
  availabilityUusd: string;
  workloadUusd: string;
  adjustmentsUusd: string;
  totalUusd: string;
  paidGpuMinutes: Record<string, number>;
  warnings: string[];
}

export interface TotalsJson {
  nodes: number;
  availabilityUusd: string;
  workloadUusd: string;
  adjustmentsUusd: string;
  totalUusd: string;
  roundingResidual: { sixtiethsOfUusd: string };
}

export function lineJson(l: StatementLine): LineJson {
  return {
    nodeId: l.nodeId,
    ownerId: l.ownerId,
    gpuClass: l.gpuClass,
    periodMinutes: l.periodMinutes,
    upMinutes: l.upMinutes,
    creditedMinutes: l.creditedMinutes,
    unverifiedMinutes: l.unverifiedMinutes,
    workloadGpuMinutes: l.workloadGpuMinutes,
    uptimeTier: l.uptimeTier,
    availabilityUusd: l.availabilityUusd.toString(),
    workloadUusd: l.workloadUusd.toString(),
    adjustmentsUusd: l.adjustmentsUusd.toString(),
    totalUusd: l.totalUusd.toString(),
    paidGpuMinutes: l.paidGpuMinutes,
    warnings: l.warnings,
  };
}

export function totalsJson(t: StatementTotals): TotalsJson {
  return {
    nodes: t.nodes,
    availabilityUusd: t.availabilityUusd.toString(),
    workloadUusd: t.workloadUusd.toString(),
    adjustmentsUusd: t.adjustmentsUusd.toString(),
    totalUusd: t.totalUusd.toString(),
    roundingResidual: { sixtiethsOfUusd: t.roundingResidual60ths.toString() },
  };
}

/** JSON with object keys sorted at every level and no whitespace: the same value, the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The hash covers what a statement says, not its workflow state (status, hash). */
export function statementHash(statement: StatementJson): string {
  const { status: _status, hash: _hash, ...content } = statement;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
