/** Owners, API tokens and "who am I". */
import { Type } from 'typebox';
import type { ActivityLog } from '../core/activity-log.js';
import { actorOf, principalOf } from '../core/auth.js';
import { ConflictError, NotFoundError, ValidationError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { newApiToken, newId, sha256Hex } from '../core/ids.js';
import { IdParams, Paging, errors } from '../core/schemas.js';
import type { Transactional } from '../core/transactions.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { EmailLinkRepository } from './email-link-repository.js';
import type { OwnerRepository } from './owner-repository.js';
import {
  CreateOwnerBody,
  CreateTokenBody,
  OwnerSchema,
  TokenSchema,
  ownerName,
  ownerView,
  tokenView,
} from './schemas.js';
import type { TokenRepository } from './token-repository.js';

export interface AccountRouteDeps {
  repos: Transactional<{
    owners: OwnerRepository;
    tokens: TokenRepository;
    activity: ActivityLog;
    emailLinks: EmailLinkRepository;
    events: EventOutbox;
  }>;
  now: () => number;
}

export function accountRoutes(app: App, { repos, now }: AccountRouteDeps): void {
  app.get(
    '/v1/me',
    {
      schema: {
        operationId: 'getMe',
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
        operationId: 'createOwner',
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
      const owner = { id: newId('own'), email, name: ownerName(request.body.name), createdAt: now() };
      await repos.transaction(async (tx) => {
        if (await tx.owners.getByEmail(email))
          throw new ConflictError(`An owner with email ${email} already exists.`);
        await tx.owners.create(owner);
        // Ops vouch for an address they enter (docs/accounts.md): it counts as confirmed, and the
        // owner gets the welcome mail with the ISO link.
        await tx.emailLinks.markVerified(owner.id, owner.createdAt);
        await tx.events.append(owner.createdAt, { type: 'account.welcome', ownerId: owner.id });
        await tx.activity.record(
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
        operationId: 'listOwners',
        tags: ['accounts'],
        summary: 'List owners',
        querystring: Type.Object({ q: Type.Optional(Type.String({ maxLength: 200 })), ...Paging }),
        response: { 200: Type.Object({ owners: Type.Array(OwnerSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops', 'reviewer'] },
    },
    async (request) => ({
      owners: (
        await repos.owners.list(request.query.q ?? '', request.query.limit ?? 100, request.query.offset ?? 0)
      ).map(ownerView),
    }),
  );

  app.get(
    '/v1/owners/:id',
    {
      schema: {
        operationId: 'getOwner',
        tags: ['accounts'],
        summary: 'One owner',
        params: IdParams,
        response: { 200: OwnerSchema, ...errors(401, 404) },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => {
      const principal = principalOf(request);
      const owner = await repos.owners.get(request.params.id);
      if (!owner || (principal.role === 'owner' && principal.ownerId !== owner.id))
        throw new NotFoundError('Owner not found.');
      return ownerView(owner);
    },
  );

  app.post(
    '/v1/tokens',
    {
      schema: {
        operationId: 'createToken',
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
      if (ownerId && !(await repos.owners.get(ownerId)))
        throw new NotFoundError(`Owner ${ownerId} not found.`);
      const token = newApiToken();
      const record = {
        id: newId('tok'),
        role,
        ownerId: ownerId ?? null,
        label: label ?? null,
        createdAt: now(),
        createdBy: principal.tokenId,
      };
      await repos.transaction(async (tx) => {
        await tx.tokens.create(record, sha256Hex(token));
        await tx.activity.record(
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
        operationId: 'listTokens',
        tags: ['accounts'],
        summary: 'List API tokens (never the secrets)',
        response: { 200: Type.Object({ tokens: Type.Array(TokenSchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin'] },
    },
    async () => ({ tokens: (await repos.tokens.list()).map(tokenView) }),
  );

  app.delete(
    '/v1/tokens/:id',
    {
      schema: {
        operationId: 'revokeToken',
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
      const at = now();
      const record = await repos.transaction(async (tx) => {
        if (!(await tx.tokens.get(id))) throw new NotFoundError(`Token ${id} not found.`);
        if (await tx.tokens.revoke(id, at))
          await tx.activity.record(at, actorOf(principal), 'token.revoked', { type: 'token', id });
        return tx.tokens.get(id);
      });
      if (!record) throw new NotFoundError(`Token ${id} not found.`);
      return tokenView(record);
    },
  );
}
