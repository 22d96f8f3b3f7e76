/** Installation keys: create (shown once), list, revoke. */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { IdParams, Paging, errors } from '../core/schemas.js';
import type { KeyService } from './key-service.js';
import { CreateKeyBody, CreatedKeySchema, KeySchema, keyView } from './schemas.js';

export function keyRoutes(app: App, ctx: { keys: KeyService; now: () => number }): void {
  const auth = { auth: ['owner', 'ops', 'admin'] as const };

  app.post(
    '/v1/keys',
    {
      schema: {
        operationId: 'createKey',
        tags: ['keys'],
        summary: 'Create an installation key (the key is shown only in this answer)',
        body: CreateKeyBody,
        response: { 201: CreatedKeySchema, ...errors(400, 401, 403, 404) },
      },
      config: auth,
    },
    async (request, reply) => {
      const { record, key } = await ctx.keys.create(principalOf(request), request.body);
      return reply.code(201).send({ ...keyView(record, ctx.now()), key });
    },
  );

  app.get(
    '/v1/keys',
    {
      schema: {
        operationId: 'listKeys',
        tags: ['keys'],
        summary: 'List installation keys (never the secret)',
        querystring: Type.Object({ ownerId: Type.Optional(Type.String({ maxLength: 64 })), ...Paging }),
        response: { 200: Type.Object({ keys: Type.Array(KeySchema) }), ...errors(401, 403, 404) },
      },
      config: auth,
    },
    async (request) => {
      const { ownerId, limit = 100, offset = 0 } = request.query;
      const at = ctx.now();
      const keys = await ctx.keys.list(principalOf(request), ownerId, limit, offset);
      return { keys: keys.map((k) => keyView(k, at)) };
    },
  );

  app.delete(
    '/v1/keys/:id',
    {
      schema: {
        operationId: 'revokeKey',
        tags: ['keys'],
        summary: 'Revoke an installation key',
        params: IdParams,
        response: { 200: KeySchema, ...errors(401, 403, 404) },
      },
      config: auth,
    },
    async (request) => keyView(await ctx.keys.revoke(principalOf(request), request.params.id), ctx.now()),
  );
}
