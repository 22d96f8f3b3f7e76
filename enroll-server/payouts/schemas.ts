/** The payout API's schemas and views: money as integer micro-USD strings, times as ISO 8601. */
import { Type } from 'typebox';
import { ValidationError } from '../core/errors.js';
import { IsoTime, NullableIsoTime, iso, isoOrNull } from '../core/schemas.js';
import type { PeriodRecord } from './payout-repository.js';

export const Uusd = Type.String({
  pattern: '^-?\\d{1,30}$',
  description: 'integer micro-USD (1 USD = 1,000,000 uusd)',
});
const UnsignedUusd = Type.String({ pattern: '^\\d{1,30}$' });
const GpuClass = Type.String({
  pattern: '^(cpu-only|\\*|[a-z0-9]+/[a-z0-9]+/\\d+Gi)$',
  description: 'e.g. nvidia/rtx4090/24Gi, or cpu-only',
});

const RateCardFields = {
  effectiveFrom: IsoTime,
  rates: Type.Record(
    GpuClass,
    Type.Object(
      { availabilityUusdPerGpuHour: UnsignedUusd, workloadUusdPerGpuHour: UnsignedUusd },
      { additionalProperties: false },
    ),
    { minProperties: 1 },
  ),
  note: Type.Optional(Type.String({ maxLength: 500 })),
};
export const RateCardBody = Type.Object(RateCardFields, { additionalProperties: false });
// One object, not an intersection: an `allOf` whose branch forbids other properties could never
// match an answer that has `version` and `createdAt` as well.
export const RateCardSchema = Type.Object(
  { version: Type.Integer(), createdAt: IsoTime, ...RateCardFields },
  { additionalProperties: false },
);

export const PeriodSchema = Type.Object({
  id: Type.String(),
  start: IsoTime,
  end: IsoTime,
  status: Type.String(),
  rateCardVersion: Type.Union([Type.Integer(), Type.Null()]),
  hash: Type.Union([Type.String(), Type.Null()]),
  computedAt: NullableIsoTime,
  lockedAt: NullableIsoTime,
});

export const LineSchema = Type.Object({
  nodeId: Type.String(),
  ownerId: Type.String(),
  gpuClass: Type.String(),
  periodMinutes: Type.Integer(),
  upMinutes: Type.Integer(),
  creditedMinutes: Type.Integer(),
  /** Up minutes not paid for availability: the node's audits did not verify it (docs/payouts.md). */
  unverifiedMinutes: Type.Integer(),
  workloadGpuMinutes: Type.Integer(),
  uptimeTier: Type.String(),
  availabilityUusd: Uusd,
  workloadUusd: Uusd,
  adjustmentsUusd: Uusd,
  totalUusd: Uusd,
  paidGpuMinutes: Type.Record(Type.String(), Type.Integer()),
  warnings: Type.Array(Type.String()),
});
export const StatementSchema = Type.Object({
  periodId: Type.String(),
  start: IsoTime,
  end: IsoTime,
  status: Type.String(),
  rateCardVersion: Type.Integer(),
  hash: Type.Optional(Type.String()),
  lines: Type.Array(LineSchema),
  totals: Type.Object({
    nodes: Type.Integer(),
    availabilityUusd: Uusd,
    workloadUusd: Uusd,
    adjustmentsUusd: Uusd,
    totalUusd: Uusd,
    roundingResidual: Type.Object({ sixtiethsOfUusd: Type.String() }),
  }),
});

export const periodView = (p: PeriodRecord) => ({
  id: p.id,
  start: iso(p.start),
  end: iso(p.end),
  status: p.status,
  rateCardVersion: p.rateCardVersion,
  hash: p.hash,
  computedAt: isoOrNull(p.computedAt),
  lockedAt: isoOrNull(p.lockedAt),
});

export function parseTime(field: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new ValidationError(`body field '${field}' is not a date-time`, {
      details: [{ field, message: 'not a date-time' }],
    });
  return ms;
}

export const OutageSchema = Type.Object({
  id: Type.String(),
  start: IsoTime,
  end: IsoTime,
  reason: Type.String(),
  createdAt: IsoTime,
});
