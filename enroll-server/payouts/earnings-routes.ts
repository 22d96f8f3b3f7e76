/** `GET /v1/earnings`: an owner's lines per period (the open period as an estimate). */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { IsoTime, errors, iso } from '../core/schemas.js';
import type { PayoutService } from './payout-service.js';
import { LineSchema, Uusd } from './schemas.js';

export function earningsRoutes(app: App, ctx: { payouts: PayoutService }): void {
  app.get(
    '/v1/earnings',
    {
      schema: {
        operationId: 'getEarnings',
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
        periods: (await ctx.payouts.earnings(ownerId, request.query.limit ?? 26)).map((e) => ({
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
