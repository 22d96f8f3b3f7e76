/** Rate cards, payout periods, statements, exports, adjustments, outages and owners' earnings. */
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { actorOf, principalOf } from '../core/auth.js';
import { parseUusd } from './money.js';
import { statementCsv } from './csv.js';
import type { App, AppContext } from '../core/http.js';
import type { PeriodRecord } from './sqlite/payout-repository.js';
import { IdParams, IsoTime, NullableIsoTime, errors } from '../core/schemas.js';
import { iso, isoOrNull } from '../core/views.js';

const Uusd = Type.String({
  pattern: '^-?\\d{1,30}$',
  description: 'integer micro-USD (1 USD = 1,000,000 uusd)',
});
const UnsignedUusd = Type.String({ pattern: '^\\d{1,30}$' });
const GpuClass = Type.String({
  pattern: '^(cpu-only|\\*|[a-z0-9]+/[a-z0-9]+/\\d+Gi)$',
  description: 'e.g. nvidia/rtx4090/24Gi, or cpu-only',
});

const RateCardBody = Type.Object(
  {
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
  },
  { additionalProperties: false },
);
const RateCardSchema = Type.Intersect([
  Type.Object({ version: Type.Integer(), createdAt: IsoTime }),
  RateCardBody,
]);

const PeriodSchema = Type.Object({
  id: Type.String(),
  start: IsoTime,
  end: IsoTime,
  status: Type.String(),
  rateCardVersion: Type.Union([Type.Integer(), Type.Null()]),
  hash: Type.Union([Type.String(), Type.Null()]),
  computedAt: NullableIsoTime,
  lockedAt: NullableIsoTime,
});

const LineSchema = Type.Object({
  nodeId: Type.String(),
  ownerId: Type.String(),
  gpuClass: Type.String(),
  periodMinutes: Type.Integer(),
  upMinutes: Type.Integer(),
  creditedMinutes: Type.Integer(),
  workloadGpuMinutes: Type.Integer(),
  uptimeTier: Type.String(),
  availabilityUusd: Uusd,
  workloadUusd: Uusd,
  adjustmentsUusd: Uusd,
  totalUusd: Uusd,
  paidGpuMinutes: Type.Record(Type.String(), Type.Integer()),
  warnings: Type.Array(Type.String()),
});
const StatementSchema = Type.Object({
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

const periodView = (p: PeriodRecord) => ({
  id: p.id,
  start: iso(p.start),
  end: iso(p.end),
  status: p.status,
  rateCardVersion: p.rateCardVersion,
  hash: p.hash,
  computedAt: isoOrNull(p.computedAt),
  lockedAt: isoOrNull(p.lockedAt),
});

function parseTime(field: string, text: string): number {
  const ms = Date.parse(text);
  if (Number.isNaN(ms))
    throw new ValidationError(`body field '${field}' is not a date-time`, {
      details: [{ field, message: 'not a date-time' }],
    });
  return ms;
}

export function payoutRoutes(app: App, ctx: AppContext): void {
  const reviewers = { auth: ['admin', 'reviewer'] as const };
  const { payouts: service, repos } = ctx;

  app.get(
    '/v1/rate-cards',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Rate card versions',
        response: { 200: Type.Object({ rateCards: Type.Array(RateCardSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'reviewer', 'ops'] },
    },
    async () => ({
      rateCards: repos.payouts.rateCards().map((c) => ({
        version: c.version,
        effectiveFrom: iso(c.effectiveFrom),
        rates: c.rates,
        createdAt: iso(c.createdAt),
        ...(c.note ? { note: c.note } : {}),
      })),
    }),
  );

  app.post(
    '/v1/rate-cards',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Add a rate card version',
        body: RateCardBody,
        response: { 201: RateCardSchema, ...errors(400, 401, 403) },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const at = ctx.now();
      const effectiveFrom = parseTime('effectiveFrom', request.body.effectiveFrom);
      const version = repos.transaction(() => {
        const v = repos.payouts.addRateCard({
          effectiveFrom,
          rates: request.body.rates,
          note: request.body.note ?? null,
          createdAt: at,
          createdBy: principal.tokenId,
        });
        repos.audit.record(
          at,
          actorOf(principal),
          'payout.rate_card_added',
          { type: 'rate_card', id: String(v) },
          { effectiveFrom: request.body.effectiveFrom },
        );
        return v;
      });
      return reply
        .code(201)
        .send({ version, createdAt: iso(at), ...request.body, effectiveFrom: iso(effectiveFrom) });
    },
  );

  app.get(
    '/v1/payout-periods',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Payout periods, newest first',
        response: { 200: Type.Object({ periods: Type.Array(PeriodSchema) }), ...errors(401, 403) },
      },
      config: reviewers,
    },
    async () => ({
      periods: repos.payouts.periods().map(periodView),
    }),
  );

  app.post(
    '/v1/payout-periods',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Create a payout period (UTC, whole minutes; no overlaps)',
        body: Type.Object({ start: IsoTime, end: IsoTime }, { additionalProperties: false }),
        response: { 201: PeriodSchema, ...errors(400, 401, 403, 409) },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const period = service.create(
        principalOf(request),
        parseTime('start', request.body.start),
        parseTime('end', request.body.end),
      );
      return reply.code(201).send(periodView(period));
    },
  );

  app.get(
    '/v1/payout-periods/:id',
    {
      schema: {
        tags: ['payouts'],
        params: IdParams,
        response: { 200: PeriodSchema, ...errors(401, 403, 404) },
      },
      config: reviewers,
    },
    async (request) => periodView(service.period(request.params.id)),
  );

  app.post(
    '/v1/payout-periods/:id/compute',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Compute (or recompute) the statement of an open period',
        params: IdParams,
        response: { 200: StatementSchema, ...errors(401, 403, 404, 409) },
      },
      config: reviewers,
    },
    async (request) => service.compute(principalOf(request), request.params.id),
  );

  app.post(
    '/v1/payout-periods/:id/lock',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Lock an ended period: its statement and hash never change',
        params: IdParams,
        response: { 200: StatementSchema, ...errors(401, 403, 404, 409) },
      },
      config: reviewers,
    },
    async (request) => service.lock(principalOf(request), request.params.id),
  );

  app.post(
    '/v1/payout-periods/:id/verify',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Recompute a locked period and compare its hash',
        params: IdParams,
        response: {
          200: Type.Object({ hash: Type.String(), recomputedHash: Type.String(), matches: Type.Boolean() }),
          ...errors(401, 403, 404, 409),
        },
      },
      config: reviewers,
    },
    async (request) => service.verify(request.params.id),
  );

  app.get(
    '/v1/payout-periods/:id/statement',
    {
      schema: {
        tags: ['payouts'],
        params: IdParams,
        response: { 200: StatementSchema, ...errors(401, 403, 404, 409) },
      },
      config: reviewers,
    },
    async (request) => service.statement(request.params.id),
  );

  app.get(
    '/v1/payout-periods/:id/export.json',
    {
      schema: {
        tags: ['payouts'],
        params: IdParams,
        response: { 200: StatementSchema, ...errors(401, 403, 404, 409) },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const statement = service.statement(request.params.id);
      return reply
        .header('content-disposition', `attachment; filename="homenode-${statement.periodId}.json"`)
        .send(statement);
    },
  );

  app.get(
    '/v1/payout-periods/:id/export.csv',
    { schema: { tags: ['payouts'], params: IdParams }, config: reviewers },
    async (request, reply) => {
      const statement = service.statement(request.params.id);
      const owners = new Map<string, { name: string; email: string } | undefined>();
      const owner = (id: string) => {
        if (!owners.has(id)) owners.set(id, repos.owners.get(id));
        return owners.get(id);
      };
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="homenode-${statement.periodId}.csv"`)
        .send(Readable.from(statementCsv(statement, owner)));
    },
  );

  app.post(
    '/v1/adjustments',
    {
      schema: {
        tags: ['payouts'],
        summary: 'A correction for a node; it lands in the next period that is not locked',
        body: Type.Object(
          {
            nodeId: Type.String({ maxLength: 64 }),
            amountUusd: Uusd,
            reason: Type.String({ minLength: 3, maxLength: 1000 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            id: Type.String(),
            nodeId: Type.String(),
            ownerId: Type.String(),
            amountUusd: Uusd,
            reason: Type.String(),
            periodId: Type.Union([Type.String(), Type.Null()]),
            createdAt: IsoTime,
          }),
          ...errors(400, 401, 403, 404),
        },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const node = repos.nodes.get(request.body.nodeId);
      if (!node) throw new NotFoundError(`Node ${request.body.nodeId} not found.`);
      const amount = parseUusd(request.body.amountUusd);
      if (amount === undefined || amount === 0n)
        throw new ValidationError("body field 'amountUusd' must be a non-zero whole number of uusd", {
          details: [{ field: 'amountUusd', message: 'non-zero integer' }],
        });
      const at = ctx.now();
      const adjustment = repos.transaction(() => {
        const a = repos.payouts.addAdjustment({
          id: newId('adj'),
          nodeId: node.id,
          ownerId: node.ownerId,
          amountUusd: amount.toString(),
          reason: request.body.reason,
          actor: principal.tokenId,
          createdAt: at,
        });
        repos.audit.record(
          at,
          actorOf(principal),
          'payout.adjustment',
          { type: 'node', id: node.id },
          { adjustmentId: a.id, amountUusd: a.amountUusd, reason: a.reason, periodId: a.periodId },
        );
        return a;
      });
      return reply.code(201).send({ ...adjustment, createdAt: iso(at) });
    },
  );

  const OutageSchema = Type.Object({
    id: Type.String(),
    start: IsoTime,
    end: IsoTime,
    reason: Type.String(),
    createdAt: IsoTime,
  });
  app.post(
    '/v1/outages',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Declare a platform outage (credited to nodes up right before it)',
        body: Type.Object(
          { start: IsoTime, end: IsoTime, reason: Type.String({ minLength: 3, maxLength: 1000 }) },
          { additionalProperties: false },
        ),
        response: { 201: OutageSchema, ...errors(400, 401, 403) },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const start = parseTime('start', request.body.start);
      const end = parseTime('end', request.body.end);
      if (end <= start)
        throw new ValidationError("'end' must be after 'start'.", {
          details: [{ field: 'end', message: 'after start' }],
        });
      const at = ctx.now();
      const outage = {
        id: newId('out'),
        start,
        end,
        reason: request.body.reason,
        createdBy: principal.tokenId,
        createdAt: at,
      };
      repos.transaction(() => {
        repos.payouts.addOutage(outage);
        repos.audit.record(
          at,
          actorOf(principal),
          'outage.declared',
          { type: 'outage', id: outage.id },
          { start: request.body.start, end: request.body.end, reason: outage.reason },
        );
      });
      return reply
        .code(201)
        .send({ id: outage.id, start: iso(start), end: iso(end), reason: outage.reason, createdAt: iso(at) });
    },
  );

  app.get(
    '/v1/outages',
    {
      schema: {
        tags: ['payouts'],
        summary: 'Declared outages (newest first)',
        response: { 200: Type.Object({ outages: Type.Array(OutageSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops', 'reviewer'] },
    },
    async () => ({
      outages: repos.payouts
        .outages(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER)
        .reverse()
        .map((o) => ({
          id: o.id,
          start: iso(o.start),
          end: iso(o.end),
          reason: o.reason,
          createdAt: iso(o.createdAt),
        })),
    }),
  );

  app.get(
    '/v1/earnings',
    {
      schema: {
        tags: ['payouts'],
        summary: "An owner's earnings per period (the open period as an estimate)",
        querystring: Type.Object({
          ownerId: Type.Optional(Type.String({ maxLength: 64 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 104, default: 26 })),
        }),
        response: {
          200: Type.Object({
            periods: Type.Array(
              Type.Object({
                periodId: Type.String(),
                start: IsoTime,
                end: IsoTime,
                status: Type.String(),
                estimate: Type.Boolean(),
                hash: Type.Union([Type.String(), Type.Null()]),
                lines: Type.Array(LineSchema),
                totalUusd: Uusd,
              }),
            ),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
      config: { auth: ['owner', 'admin', 'reviewer'] },
    },
    async (request) => {
      const principal = principalOf(request);
      const ownerId = principal.role === 'owner' ? principal.ownerId : request.query.ownerId;
      if (principal.role === 'owner' && request.query.ownerId && request.query.ownerId !== principal.ownerId)
        throw new NotFoundError('Owner not found.');
      if (!ownerId)
        throw new ValidationError("querystring is missing the required field 'ownerId'", {
          details: [{ field: 'ownerId', message: 'required for staff' }],
        });
      return {
        periods: service.earnings(ownerId, request.query.limit ?? 26).map((e) => ({
          periodId: e.statement.periodId,
          start: iso(e.start),
          end: iso(e.end),
          status: e.period?.status ?? 'open',
          estimate: e.estimate,
          hash: e.estimate ? null : (e.statement.hash ?? null),
          lines: e.statement.lines,
          totalUusd: e.statement.lines.reduce((sum, l) => sum + BigInt(l.totalUusd), 0n).toString(),
        })),
      };
    },
  );
}
