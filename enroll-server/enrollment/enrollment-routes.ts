/** `POST /v1/enroll` and `GET /v1/policy`: what a machine at the console talks to before it has an identity. */
import { Type } from 'typebox';
import { ENROLL_BODY_LIMIT_BYTES, EnrollRequestSchema, EnrollResponseSchema } from '../../protocol/api.js';
import { PolicySchema } from '../../protocol/policy.js';
import type { Policy } from '../../protocol/policy.js';
import type { App } from '../core/http.js';
import { IsoTime, errors } from '../core/schemas.js';
import type { EnrollmentService } from './enrollment-service.js';

export interface EnrollmentRouteDeps {
  enrollment: EnrollmentService;
  policy: Policy;
  now: () => number;
}

export function enrollmentRoutes(app: App, ctx: EnrollmentRouteDeps): void {
  app.post(
    '/v1/enroll',
    {
      bodyLimit: ENROLL_BODY_LIMIT_BYTES,
      schema: {
        operationId: 'enroll',
        tags: ['enrollment'],
        summary: 'Enroll a machine with an installation key',
        body: EnrollRequestSchema,
        response: {
          200: EnrollResponseSchema,
          201: EnrollResponseSchema,
          ...errors(400, 401, 403, 409, 413, 429),
        },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const outcome = await ctx.enrollment.enroll(request.body, request.ip);
      return reply.code(outcome.created ? 201 : 200).send(outcome.response);
    },
  );

  app.get(
    '/v1/policy',
    {
      schema: {
        operationId: 'getPolicy',
        tags: ['enrollment'],
        summary: 'The hardware policy the server enforces, and its clock',
        response: { 200: Type.Object({ policy: PolicySchema, serverTime: IsoTime }) },
      },
      config: { auth: 'public' },
    },
    async () => ({ policy: ctx.policy, serverTime: new Date(ctx.now()).toISOString() }),
  );
}
