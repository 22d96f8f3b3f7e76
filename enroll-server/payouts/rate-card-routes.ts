/** Rate card versions: what each GPU class earns per hour of availability and of workload. */
import { Type } from 'typebox';
import type { ActivityLog } from '../core/activity-log.js';
import { actorOf, principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { errors, iso } from '../core/schemas.js';
import type { Transactional } from '../core/transactions.js';
import type { PayoutRepository } from './payout-repository.js';
import { RateCardBody, RateCardSchema, parseTime } from './schemas.js';

export interface RateCardRouteDeps {
  repos: Transactional<{ payouts: PayoutRepository; activity: ActivityLog }>;
  now: () => number;
}

export function rateCardRoutes(app: App, ctx: RateCardRouteDeps): void {
  const { repos } = ctx;
  const reviewers = { auth: ['admin', 'reviewer'] as const };

  app.get(
    '/v1/rate-cards',
    {
      schema: {
        operationId: 'listRateCards',
        tags: ['payouts'],
        summary: 'Rate card versions',
        response: { 200: Type.Object({ rateCards: Type.Array(RateCardSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'reviewer', 'ops'] },
    },
    async () => ({
      rateCards: (await repos.payouts.rateCards()).map((c) => ({
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
        operationId: 'addRateCard',
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
      const version = await repos.transaction(async (tx) => {
        const v = await tx.payouts.addRateCard({
          effectiveFrom,
          rates: request.body.rates,
          note: request.body.note ?? null,
          createdAt: at,
          createdBy: principal.tokenId,
        });
        await tx.activity.record(
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
}
