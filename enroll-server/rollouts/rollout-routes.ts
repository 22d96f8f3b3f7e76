/**
 * Rollouts over HTTP (docs/updates.md), admin and ops only: create, list, show (per-node states),
 * pause, resume, abort. Each change is an activity entry (the service records them).
 */
import { actorOf, principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { IdParams, errors } from '../core/schemas.js';
import { Type } from 'typebox';
import type { RolloutService } from './rollout-service.js';
import {
  CreateRolloutSchema,
  RolloutDetailSchema,
  RolloutListSchema,
  RolloutSchema,
  rolloutNodeView,
  rolloutView,
} from './schemas.js';

const OPS = ['admin', 'ops'] as const;

export function rolloutRoutes(app: App, ctx: { rollouts: RolloutService }): void {
  app.post(
    '/v1/rollouts',
    {
      schema: {
        tags: ['rollouts'],
        operationId: 'createRollout',
        summary: 'Start a staged rollout of an uploaded agent release',
        body: CreateRolloutSchema,
        response: { 201: RolloutSchema, ...errors(400, 401, 403, 404) },
      },
      config: { auth: OPS },
    },
    async (request, reply) => {
      const record = await ctx.rollouts.create(request.body, actorOf(principalOf(request)));
      return reply.code(201).send(rolloutView(record));
    },
  );

  app.get(
    '/v1/rollouts',
    {
      schema: {
        tags: ['rollouts'],
        operationId: 'listRollouts',
        summary: 'List rollouts, newest first',
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })) }),
        response: { 200: RolloutListSchema, ...errors(400, 401, 403) },
      },
      config: { auth: OPS },
    },
    async (request) => ({
      rollouts: (await ctx.rollouts.list(request.query.limit ?? 100)).map(rolloutView),
    }),
  );

  app.get(
    '/v1/rollouts/:id',
    {
      schema: {
        tags: ['rollouts'],
        operationId: 'getRollout',
        summary: "A rollout with each offered node's state",
        params: IdParams,
        response: { 200: RolloutDetailSchema, ...errors(400, 401, 403, 404) },
      },
      config: { auth: OPS },
    },
    async (request) => {
      const { rollout, nodes } = await ctx.rollouts.get(request.params.id);
      const counts: Record<string, number> = {};
      for (const n of nodes) counts[n.state] = (counts[n.state] ?? 0) + 1;
      return { ...rolloutView(rollout), counts, nodes: nodes.map(rolloutNodeView) };
    },
  );

  for (const [action, operationId, summary] of [
    ['pause', 'pauseRollout', 'Pause a rollout: no new node is offered the release'],
    ['resume', 'resumeRollout', 'Resume a paused rollout'],
    ['abort', 'abortRollout', 'Abort a rollout for good (nodes already updated keep the release)'],
  ] as const) {
    app.post(
      `/v1/rollouts/:id/${action}`,
      {
        schema: {
          tags: ['rollouts'],
          operationId,
          summary,
          params: IdParams,
          response: { 200: RolloutSchema, ...errors(400, 401, 403, 404, 409) },
        },
        config: { auth: OPS },
      },
      async (request) =>
        rolloutView(await ctx.rollouts[action](request.params.id, actorOf(principalOf(request)))),
    );
  }
}
