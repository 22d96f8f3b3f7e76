/** CSV export (RFC 4180) of a statement, one row per node; text cells that a spreadsheet would run as a formula are neutralised. */
import type { LineJson, StatementJson } from './statement-json.js';

export const CSV_COLUMNS = [
  'period_id',
  'period_start',
  'period_end',
  'node_id',
  'owner_id',
  'owner_name',
  'owner_email',
  'gpu_class',
  'period_minutes',
  'up_minutes',
  'credited_minutes',
  'unverified_minutes',
  'workload_gpu_minutes',
  'uptime_tier',
  'rate_card_version',
  'availability_uusd',
  'workload_uusd',
  'adjustments_uusd',
  'total_uusd',
  'statement_hash',
] as const;

/** A text cell starting with = + - @ tab or CR is prefixed with ' so that it stays text. */
export function neutralize(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

type Cell = { text: string } | { number: string | number };

export function csvRow(cells: readonly Cell[]): string {
  // Numbers we wrote ourselves (integers, possibly negative) are data, never formulas.
  return `${cells.map((c) => quote('text' in c ? neutralize(c.text) : String(c.number))).join(',')}\r\n`;
}

export function* statementCsv(
  statement: StatementJson,
  owners: (ownerId: string) => { name: string; email: string } | undefined,
): Generator<string> {
  yield csvRow(CSV_COLUMNS.map((c) => ({ text: c })));
  for (const l of statement.lines) yield csvRow(lineCells(statement, l, owners(l.ownerId)));
}

function lineCells(
  s: StatementJson,
  l: LineJson,
  owner: { name: string; email: string } | undefined,
): Cell[] {
  return [
    { text: s.periodId },
    { text: s.start },
    { text: s.end },
    { text: l.nodeId },
    { text: l.ownerId },
    { text: owner?.name ?? '' },
    { text: owner?.email ?? '' },
    { text: l.gpuClass },
    { number: l.periodMinutes },
    { number: l.upMinutes },
    { number: l.creditedMinutes },
    { number: l.unverifiedMinutes },
    { number: l.workloadGpuMinutes },
    { text: l.uptimeTier },
    { number: s.rateCardVersion },
    { number: l.availabilityUusd },
    { number: l.workloadUusd },
    { number: l.adjustmentsUusd },
    { number: l.totalUusd },
    { text: s.hash ?? '' },
  ];
}
