/**
 * `POST /v1/webhooks { url, events, secret? }` (admin, ops; owners for their own machines),
 * `GET /v1/webhooks`, `DELETE /v1/webhooks/:id` and the delivery log
 * `GET /v1/webhooks/:id/deliveries`. The secret is in the creating answer only.
 */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import { WEBHOOK_EVENTS } from '../core/domain-events.js';
import type { App } from '../core/http.js';
import { IdParams, IsoTime, NullableIsoTime, errors, iso, isoOrNull } from '../core/schemas.js';
import type { AttemptRecord, DeliveryRecord, WebhookRecord } from './webhook-repository.js';
import type { WebhookService } from './webhook-service.js';

const EventName = Type.Enum(WEBHOOK_EVENTS);

const WebhookSchema = Type.Object({
  id: Type.String(),
  url: Type.String(),
  events: Type.Array(EventName),
  ownerId: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
});

const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  at: IsoTime,
  durationMs: Type.Integer(),
  status: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
});

const DeliverySchema = Type.Object({
  id: Type.String(),
  eventId: Type.String(),
  event: EventName,
  createdAt: IsoTime,
  status: Type.Union([Type.Literal('pending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  nextAttemptAt: NullableIsoTime,
  lastStatus: Type.Union([Type.Integer(), Type.Null()]),
  lastError: Type.Union([Type.String(), Type.Null()]),
  deliveredAt: NullableIsoTime,
  log: Type.Array(AttemptSchema),
});

const webhookView = (h: WebhookRecord) => ({
  id: h.id,
  url: h.url,
  events: h.events,
  ownerId: h.ownerId,
  createdAt: iso(h.createdAt),
});

const attemptView = (a: AttemptRecord) => ({
  attempt: a.attempt,
  at: iso(a.at),
  durationMs: a.durationMs,
  status: a.status,
  error: a.error,
});

const deliveryView = (d: DeliveryRecord, log: AttemptRecord[]) => ({
  id: d.id,
  eventId: d.eventId,
  event: d.event,
  createdAt: iso(d.createdAt),
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.status === 'pending' ? isoOrNull(d.nextAttemptAt) : null,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  deliveredAt: isoOrNull(d.deliveredAt),
  log: log.map(attemptView),
});

export function webhookRoutes(app: App, deps: { webhooks: WebhookService }): void {
  const who = { auth: ['admin', 'ops', 'owner'] as const };

  app.post(
    '/v1/webhooks',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Register a webhook (the signing secret is shown only in this answer)',
        body: Type.Object(
          {
            url: Type.String({ minLength: 8, maxLength: 2048 }),
            events: Type.Array(EventName, {
              minItems: 1,
              maxItems: WEBHOOK_EVENTS.length,
              uniqueItems: true,
            }),
            secret: Type.Optional(
              Type.String({
                minLength: 16,
                maxLength: 200,
                pattern: '^[\\x21-\\x7e]+$',
                description: 'printable, no spaces',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({ ...WebhookSchema.properties, secret: Type.String() }),
          ...errors(400, 401, 403, 409),
        },
      },
      config: who,
    },
    async (request, reply) => {
      const { hook, secret } = await deps.webhooks.create(principalOf(request), request.body);
      return reply
        .code(201)
        .header('cache-control', 'no-store')
        .send({ ...webhookView(hook), secret });
    },
  );

  app.get(
    '/v1/webhooks',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Webhooks (staff: all of them; an owner: their own); never the secrets',
        response: { 200: Type.Object({ webhooks: Type.Array(WebhookSchema) }), ...errors(401, 403) },
      },
      config: who,
    },
    async (request) => ({ webhooks: (await deps.webhooks.list(principalOf(request))).map(webhookView) }),
  );

  app.delete(
    '/v1/webhooks/:id',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Delete a webhook (its pending deliveries are dropped)',
        params: IdParams,
        response: { 204: Type.Null(), ...errors(401, 403, 404) },
      },
      config: who,
    },
    async (request, reply) => {
      await deps.webhooks.remove(principalOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/v1/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['notifications'],
        summary: "A webhook's delivery log, newest first, with every attempt",
        params: IdParams,
        querystring: Type.Object({
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
        }),
        response: { 200: Type.Object({ deliveries: Type.Array(DeliverySchema) }), ...errors(401, 403, 404) },
      },
      config: who,
    },
    async (request) => ({
      deliveries: (
        await deps.webhooks.deliveries(principalOf(request), request.params.id, request.query.limit ?? 50)
      ).map(({ delivery, attempts }) => deliveryView(delivery, attempts)),
    }),
  );
}
