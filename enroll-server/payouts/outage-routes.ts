/** Declared platform outages: nodes up right before one are credited for it. */
import { Type } from 'typebox';
import type { ActivityLog } from '../core/activity-log.js';
import { actorOf, principalOf } from '../core/auth.js';
import { ValidationError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { newId } from '../core/ids.js';
import { IsoTime, errors, iso } from '../core/schemas.js';
import type { Transactional } from '../core/transactions.js';
import type { PayoutRepository } from './payout-repository.js';
import { OutageSchema, parseTime } from './schemas.js';

export interface OutageRouteDeps {
  repos: Transactional<{ payouts: PayoutRepository; activity: ActivityLog }>;
  now: () => number;
}

export function outageRoutes(app: App, ctx: OutageRouteDeps): void {
  const { repos } = ctx;

  app.post(
    '/v1/outages',
    {
      schema: {
        operationId: 'declareOutage',
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
      await repos.transaction(async (tx) => {
        await tx.payouts.addOutage(outage);
        await tx.activity.record(
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
        operationId: 'listOutages',
        tags: ['payouts'],
        summary: 'Declared outages (newest first)',
        response: { 200: Type.Object({ outages: Type.Array(OutageSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops', 'reviewer'] },
    },
    async () => ({
      outages: (await repos.payouts.outages(0, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER))
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
}
