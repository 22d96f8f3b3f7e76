/** Owners, API tokens and "who am I". */
import { Type } from 'typebox';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import { newApiToken, newId, sha256Hex } from '../core/ids.js';
import { actorOf, principalOf } from '../core/auth.js';
import type { App, AppContext } from '../core/http.js';
import {
  CreateOwnerBody,
  CreateTokenBody,
  IdParams,
  OwnerSchema,
  Paging,
  TokenSchema,
  errors,
} from '../core/schemas.js';
import { ownerView, tokenView } from '../core/views.js';

export function accountRoutes(app: App, ctx: AppContext): void {
  const { repos, now } = ctx;

  app.get(
    '/v1/me',
    {
      schema: {
        tags: ['accounts'],
        summary: 'The caller: role and owner',
        response: {
          200: Type.Object({
            tokenId: Type.String(),
            role: Type.String(),
            ownerId: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors(401),
        },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => principalOf(request),
  );

  app.post(
    '/v1/owners',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an owner',
        body: CreateOwnerBody,
        response: { 201: OwnerSchema, ...errors(400, 401, 403, 409) },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const email = request.body.email.trim().toLowerCase();
      if (repos.owners.getByEmail(email))
        throw new ConflictError(`An owner with email ${email} already exists.`);
      const owner = { id: newId('own'), email, name: request.body.name.trim(), createdAt: now() };
      repos.transaction(() => {
        repos.owners.create(owner);
        repos.audit.record(
          owner.createdAt,
          actorOf(principal),
          'owner.created',
          { type: 'owner', id: owner.id },
          { email },
        );
      });
      return reply.code(201).send(ownerView(owner));
    },
  );

  app.get(
    '/v1/owners',
    {
      schema: {
        tags: ['accounts'],
        summary: 'List owners',
        querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), ...Paging }),
        response: { 200: Type.Object({ owners: Type.Array(OwnerSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops', 'reviewer'] },
    },
    async (request) => ({
      owners: repos.owners
        .list(request.query.q ?? '', request.query.limit ?? 100, request.query.offset ?? 0)
        .map(ownerView),
    }),
  );

  app.get(
    '/v1/owners/:id',
    {
      schema: {
        tags: ['accounts'],
        summary: 'One owner',
        params: IdParams,
        response: { 200: OwnerSchema, ...errors(401, 404) },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => {
      const principal = principalOf(request);
      const owner = repos.owners.get(request.params.id);
      if (!owner || (principal.role === 'owner' && principal.ownerId !== owner.id))
        throw new NotFoundError('Owner not found.');
      return ownerView(owner);
    },
  );

  app.post(
    '/v1/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Create an API token (shown once)',
        body: CreateTokenBody,
        response: {
          201: Type.Object({
            id: Type.String(),
            token: Type.String(),
            role: Type.String(),
            ownerId: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errors(400, 401, 403, 404),
        },
      },
      config: { auth: ['admin'] },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const { role, ownerId, label } = request.body;
      if (role === 'owner' && !ownerId) {
        throw new ValidationError(
          "body is missing the required field 'ownerId' (an owner token belongs to an owner)",
          {
            details: [{ field: 'ownerId', message: 'required when role is owner' }],
          },
        );
      }
      if (role !== 'owner' && ownerId) {
        throw new ValidationError("body field 'ownerId' is only for owner tokens", {
          details: [{ field: 'ownerId', message: 'only for role owner' }],
        });
      }
      if (ownerId && !repos.owners.get(ownerId)) throw new NotFoundError(`Owner ${ownerId} not found.`);
      const token = newApiToken();
      const record = {
        id: newId('tok'),
        role,
        ownerId: ownerId ?? null,
        label: label ?? null,
        createdAt: now(),
        createdBy: principal.tokenId,
      };
      repos.transaction(() => {
        repos.tokens.create(record, sha256Hex(token));
        repos.audit.record(
          record.createdAt,
          actorOf(principal),
          'token.created',
          { type: 'token', id: record.id },
          { role, ownerId: record.ownerId },
        );
      });
      return reply.code(201).send({ id: record.id, token, role, ownerId: record.ownerId });
    },
  );

  app.get(
    '/v1/tokens',
    {
      schema: {
        tags: ['accounts'],
        summary: 'List API tokens (never the secrets)',
        response: { 200: Type.Object({ tokens: Type.Array(TokenSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin'] },
    },
    async () => ({ tokens: repos.tokens.list().map(tokenView) }),
  );

  app.delete(
    '/v1/tokens/:id',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Revoke an API token',
        params: IdParams,
        response: { 200: TokenSchema, ...errors(401, 403, 404) },
      },
      config: { auth: ['admin'] },
    },
    async (request) => {
      const principal = principalOf(request);
      const { id } = request.params;
      if (!repos.tokens.get(id)) throw new NotFoundError(`Token ${id} not found.`);
      const at = now();
      repos.transaction(() => {
        if (repos.tokens.revoke(id, at))
          repos.audit.record(at, actorOf(principal), 'token.revoked', { type: 'token', id });
      });
      const record = repos.tokens.get(id);
      if (!record) throw new NotFoundError(`Token ${id} not found.`);
      return tokenView(record);
    },
  );
}
