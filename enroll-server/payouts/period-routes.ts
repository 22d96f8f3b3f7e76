/** Payout periods: create, compute, lock, verify, the stored statement and its JSON and CSV exports. */
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import type { OwnerRepository } from '../accounts/owner-repository.js';
import { principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { IdParams, IsoTime, errors, fileAnswer } from '../core/schemas.js';
import { statementCsv } from './csv.js';
import type { PayoutRepository } from './payout-repository.js';
import type { PayoutService } from './payout-service.js';
import { PeriodSchema, StatementSchema, parseTime, periodView } from './schemas.js';

export interface PeriodRouteDeps {
  payouts: PayoutService;
  repos: { payouts: PayoutRepository; owners: OwnerRepository };
}

export function periodRoutes(app: App, ctx: PeriodRouteDeps): void {
  const reviewers = { auth: ['admin', 'reviewer'] as const };
  const { payouts: service, repos } = ctx;

  app.get(
    '/v1/payout-periods',
    {
      schema: {
        operationId: 'listPayoutPeriods',
        tags: ['payouts'],
        summary: 'Payout periods, newest first',
        response: { 200: Type.Object({ periods: Type.Array(PeriodSchema) }), ...errors(401, 403) },
      },
      config: reviewers,
    },
    async () => ({
      periods: (await repos.payouts.periods()).map(periodView),
    }),
  );

  app.post(
    '/v1/payout-periods',
    {
      schema: {
        operationId: 'createPayoutPeriod',
        tags: ['payouts'],
        summary: 'Create a payout period (UTC, whole minutes; no overlaps)',
        body: Type.Object({ start: IsoTime, end: IsoTime }, { additionalProperties: false }),
        response: { 201: PeriodSchema, ...errors(400, 401, 403, 409) },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const period = await service.create(
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
        operationId: 'getPayoutPeriod',
        tags: ['payouts'],
        summary: 'One payout period and its status',
        params: IdParams,
        response: { 200: PeriodSchema, ...errors(401, 403, 404) },
      },
      config: reviewers,
    },
    async (request) => periodView(await service.period(request.params.id)),
  );

  app.post(
    '/v1/payout-periods/:id/compute',
    {
      schema: {
        operationId: 'computeStatement',
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
        operationId: 'lockPayoutPeriod',
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
        operationId: 'verifyPayoutPeriod',
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
        operationId: 'getStatement',
        tags: ['payouts'],
        summary: 'The stored statement of a computed or locked period',
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
        operationId: 'exportStatementJson',
        tags: ['payouts'],
        summary: 'Download the statement as a JSON file',
        params: IdParams,
        response: { 200: StatementSchema, ...errors(401, 403, 404, 409) },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const statement = await service.statement(request.params.id);
      return reply
        .header('content-disposition', `attachment; filename="homenode-${statement.periodId}.json"`)
        .send(statement);
    },
  );

  app.get(
    '/v1/payout-periods/:id/export.csv',
    {
      schema: {
        operationId: 'exportStatementCsv',
        tags: ['payouts'],
        summary: 'Download the statement as CSV (RFC 4180, one row per node)',
        params: IdParams,
        response: {
          200: fileAnswer(
            'text/csv',
            'The statement, one row per node; cells a spreadsheet would run as a formula are neutralised',
          ),
          ...errors(404, 409),
        },
      },
      config: reviewers,
    },
    async (request, reply) => {
      const statement = await service.statement(request.params.id);
      // The statement's owners, looked up once each, before the CSV streams.
      const owners = new Map<string, { name: string; email: string } | undefined>();
      for (const id of new Set(statement.lines.map((l) => l.ownerId)))
        owners.set(id, await repos.owners.get(id));
      const owner = (id: string) => owners.get(id);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="homenode-${statement.periodId}.csv"`)
        .send(Readable.from(statementCsv(statement, owner)));
    },
  );
}
