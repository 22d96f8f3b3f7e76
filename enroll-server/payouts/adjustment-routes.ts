/** Adjustments: a reviewer's correction for a node, landing in the next period that is not locked. */
import { Type } from 'typebox';
import type { ActivityLog } from '../core/activity-log.js';
import { actorOf, principalOf } from '../core/auth.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { newId } from '../core/ids.js';
import { IsoTime, errors, iso } from '../core/schemas.js';
import type { Transactional } from '../core/transactions.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import { parseUusd } from './money.js';
import type { PayoutRepository } from './payout-repository.js';
import { Uusd } from './schemas.js';

export interface AdjustmentRouteDeps {
  repos: Transactional<{ payouts: PayoutRepository; nodes: NodeRepository; activity: ActivityLog }>;
  now: () => number;
}

export function adjustmentRoutes(app: App, ctx: AdjustmentRouteDeps): void {
  const { repos } = ctx;
  const reviewers = { auth: ['admin', 'reviewer'] as const };

  app.post(
    '/v1/adjustments',
    {
      schema: {
        operationId: 'addAdjustment',
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
      const node = await repos.nodes.get(request.body.nodeId);
      if (!node) throw new NotFoundError(`Node ${request.body.nodeId} not found.`);
      const amount = parseUusd(request.body.amountUusd);
      if (amount === undefined || amount === 0n)
        throw new ValidationError("body field 'amountUusd' must be a non-zero whole number of uusd", {
          details: [{ field: 'amountUusd', message: 'non-zero integer' }],
        });
      const at = ctx.now();
      const adjustment = await repos.transaction(async (tx) => {
        const a = await tx.payouts.addAdjustment({
          id: newId('adj'),
          nodeId: node.id,
          ownerId: node.ownerId,
          amountUusd: amount.toString(),
          reason: request.body.reason,
          actor: principal.tokenId,
          createdAt: at,
        });
        await tx.activity.record(
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
}
