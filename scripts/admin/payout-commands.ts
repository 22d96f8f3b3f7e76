/** Operator CLI: payout periods and statements, rate cards, adjustments, outages and earnings. */
import { writeFileSync } from 'node:fs';
import { weekContaining } from '../../protocol/periods.js';
import { type Command, type Row, id, query, str } from './command.js';
import { record, table } from './format.js';

/** Integer uusd string → "$12.345678" (exact). */
function usd(uusd: string): string {
  const v = BigInt(uusd);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}$${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

function statementSummary(s: {
  periodId: string;
  status: string;
  hash?: string;
  rateCardVersion: number;
  lines: Row[];
  totals: Row;
}): string {
  const rows = s.lines.map((l) => ({ ...l, total: usd(String(l.totalUusd)) }));
  return [
    `Period ${s.periodId}: ${s.status}, rate card ${s.rateCardVersion}${s.hash ? `, hash ${s.hash}` : ''}`,
    table(rows, [
      'nodeId',
      'ownerId',
      'gpuClass',
      'upMinutes',
      'creditedMinutes',
      'uptimeTier',
      'workloadGpuMinutes',
      'total',
    ]),
    `Total ${usd(String(s.totals.totalUusd))} over ${String(s.totals.nodes)} node(s)`,
  ].join('\n');
}

export const PAYOUT_COMMANDS: Command[] = [
  {
    name: 'payouts create',
    summary:
      'Create a payout period: --week DATE (the Monday-to-Monday UTC week containing it) or --start and --end',
    options: {
      week: { type: 'string', description: 'a date in the week, e.g. 2026-11-16' },
      start: { type: 'string', description: 'ISO start (whole minutes, UTC)' },
      end: { type: 'string', description: 'ISO end' },
    },
    run: ({ api, options }) => {
      const week = str(options.week);
      if (week !== undefined) {
        const at = Date.parse(week);
        if (Number.isNaN(at)) throw new Error(`--week must be a date such as 2026-11-16, not "${week}"`);
        const range = weekContaining(at);
        return api.request('POST', '/v1/payout-periods', {
          start: new Date(range.start).toISOString(),
          end: new Date(range.end).toISOString(),
        });
      }
      if (!str(options.start) || !str(options.end))
        throw new Error('Give --week DATE, or both --start and --end.');
      return api.request('POST', '/v1/payout-periods', { start: str(options.start), end: str(options.end) });
    },
    render: (r: Row) => record(r),
  },
  {
    name: 'payouts list',
    summary: 'List payout periods',
    run: ({ api }) => api.request('GET', '/v1/payout-periods'),
    render: (r: { periods: Row[] }) =>
      table(r.periods, ['id', 'start', 'end', 'status', 'rateCardVersion', 'hash']),
  },
  {
    name: 'payouts compute',
    summary: 'Compute (or recompute) a period that is not locked',
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('POST', `/v1/payout-periods/${id(ctx)}/compute`),
    render: statementSummary,
  },
  {
    name: 'payouts lock',
    summary: 'Lock an ended period: its statement and hash never change again',
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('POST', `/v1/payout-periods/${id(ctx)}/lock`),
    render: statementSummary,
  },
  {
    name: 'payouts verify',
    summary: 'Recompute a locked period and compare its hash',
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('POST', `/v1/payout-periods/${id(ctx)}/verify`),
    render: (r: Row) =>
      r.matches
        ? `OK: recomputed hash ${String(r.recomputedHash)} matches`
        : `MISMATCH: locked ${String(r.hash)}, recomputed ${String(r.recomputedHash)}`,
  },
  {
    name: 'payouts statement',
    summary: "Show a period's statement",
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('GET', `/v1/payout-periods/${id(ctx)}/statement`),
    render: statementSummary,
  },
  {
    name: 'payouts export',
    summary: "Write a period's statement to a file as CSV or JSON",
    args: ['PERIOD_ID'],
    options: {
      format: { type: 'string', description: 'csv (default) or json' },
      out: { type: 'string', description: 'the file to write', required: true },
    },
    run: async (ctx) => {
      const format = str(ctx.options.format) ?? 'csv';
      if (format !== 'csv' && format !== 'json')
        throw new Error(`--format must be csv or json, not "${format}"`);
      const body = await ctx.api.request<unknown>('GET', `/v1/payout-periods/${id(ctx)}/export.${format}`);
      const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
      const out = str(ctx.options.out) ?? '';
      writeFileSync(out, text);
      return { file: out, format, bytes: Buffer.byteLength(text) };
    },
    render: (r: Row) =>
      `Wrote ${String(r.bytes)} bytes of ${String(r.format).toUpperCase()} to ${String(r.file)}`,
  },
  {
    name: 'rate-cards list',
    summary: 'List rate card versions',
    run: ({ api }) => api.request('GET', '/v1/rate-cards'),
    render: (r: { rateCards: Row[] }) => table(r.rateCards, ['version', 'effectiveFrom', 'rates', 'note']),
  },
  {
    name: 'rate-cards add',
    summary: 'Add a rate card version from a JSON file ({ effectiveFrom, rates, note? })',
    options: { file: { type: 'string', description: 'the JSON file', required: true } },
    run: async ({ api, options }) => {
      const { readFileSync } = await import('node:fs');
      return api.request(
        'POST',
        '/v1/rate-cards',
        JSON.parse(readFileSync(str(options.file) ?? '', 'utf8')) as unknown,
      );
    },
    render: (r: Row) => `Rate card version ${String(r.version)} in force from ${String(r.effectiveFrom)}`,
  },
  {
    name: 'adjustments add',
    summary: 'Add a correction for a node (lands in the next period that is not locked)',
    options: {
      node: { type: 'string', description: 'node id', required: true },
      'amount-uusd': {
        type: 'string',
        description: 'integer micro-USD, negative to take back',
        required: true,
      },
      reason: { type: 'string', description: 'why', required: true },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/adjustments', {
        nodeId: str(options.node),
        amountUusd: str(options['amount-uusd']),
        reason: str(options.reason),
      }),
    render: (r: Row) =>
      `${record(r)}${r.periodId ? '' : '\n(waits for the next payout period to be created)'}`,
  },
  {
    name: 'outages add',
    summary: 'Declare a platform outage window (credited to nodes up right before it)',
    options: {
      start: { type: 'string', description: 'ISO start', required: true },
      end: { type: 'string', description: 'ISO end', required: true },
      reason: { type: 'string', description: 'what happened', required: true },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/outages', {
        start: str(options.start),
        end: str(options.end),
        reason: str(options.reason),
      }),
    render: (r: Row) => record(r),
  },
  {
    name: 'outages list',
    summary: 'List declared outages',
    run: ({ api }) => api.request('GET', '/v1/outages'),
    render: (r: { outages: Row[] }) => table(r.outages, ['id', 'start', 'end', 'reason', 'createdAt']),
  },
  {
    name: 'earnings',
    summary: "An owner's earnings per period (owners: their own; staff: --owner)",
    options: { owner: { type: 'string', description: 'owner id (staff tokens)' } },
    run: ({ api, options }) => api.request('GET', `/v1/earnings${query({ ownerId: str(options.owner) })}`),
    render: (r: { periods: Row[] }) =>
      table(
        r.periods.map((p) => ({
          ...p,
          total: usd(String(p.totalUusd)),
          lines: (p.lines as unknown[]).length,
        })),
        ['periodId', 'start', 'end', 'status', 'estimate', 'lines', 'total'],
      ),
  },
];
