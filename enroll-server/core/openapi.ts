/**
 * The OpenAPI 3.1 document at `/openapi.json`, generated from the routes' schemas by
 * `@fastify/swagger`. What every route shares is filled in here, from the route's `config.auth`:
 * who may call it (`security`), and the 401 and 403 answers of routes that need a role. A route
 * without an `operationId` gets one derived from its method and path, so that a generated client
 * always has a method name; routes should still name theirs. The document is linted with
 * `@redocly/cli` (`redocly.yaml`) and every JSON answer the integration tests receive is checked
 * against it (test/helpers/openapi-answers.ts).
 */
import type { SwaggerOptions } from '@fastify/swagger';
import { ErrorBodySchema } from '../../protocol/api.js';
import { SESSION_COOKIE } from './auth.js';
import { ERROR_DESCRIPTIONS } from './schemas.js';

type RouteAuth = 'public' | 'optional' | readonly string[] | undefined;

/** `GET /v1/payout-periods/:id/export.csv` → `getV1PayoutPeriodsIdExportCsv`. */
export function derivedOperationId(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return method.toLowerCase() + words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

/** The route's answers with the shared error answers added where the route does not give its own. */
const withErrors = (
  response: Record<string, unknown> | undefined,
  statuses: readonly number[],
): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...response };
  for (const status of statuses)
    out[status] ??= { ...ErrorBodySchema, description: ERROR_DESCRIPTIONS[status] };
  return out;
};

/**
 * Errors any route can give, whatever its own code does (the error handler's answers): a request
 * whose parameters or query fail their schema (400); on routes that write, a body that is not
 * JSON, too large or of another media type (400, 413, 415: the body parser runs on every write,
 * whether or not the route reads one), and `503` when storage is full.
 */
function sharedErrors(method: string, hasInput: boolean, auth: RouteAuth): number[] {
  const writes = !['GET', 'HEAD', 'OPTIONS'].includes(method.toUpperCase());
  return [
    ...(Array.isArray(auth) ? [401, 403] : []),
    ...(hasInput || writes ? [400] : []),
    ...(writes ? [413, 415, 503] : []),
  ];
}

export function openApiOptions(publicUrl: string, version: string): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Home Node enroll-server',
        version,
        description:
          'Enrollment of home GPU machines, their control channel, uptime and workload accounting, and payouts. Errors are `{ "error": { "code", "message", "details"? } }`; times are ISO 8601 (UTC); money is integer micro-USD as strings.',
        license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      },
      servers: [{ url: publicUrl }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token (`hn_…`), or a node JWT on `/v1/control`.',
          },
          session: {
            type: 'apiKey',
            in: 'cookie',
            name: SESSION_COOKIE,
            description:
              'A dashboard session (POST /v1/session); requests that change something also send X-CSRF-Token.',
          },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: ({ schema, url, route }) => {
      // @fastify/websocket hides its routes (a plain GET is not served); we document the upgrade.
      const websocket = (route as { websocket?: boolean }).websocket === true;
      if (!schema || (schema.hide && !websocket)) return { schema, url };
      const method = Array.isArray(route.method) ? String(route.method[0]) : String(route.method);
      const auth = (route.config as { auth?: RouteAuth } | undefined)?.auth;
      const out: Record<string, unknown> = { ...schema };
      delete out.hide;
      out.operationId ??= derivedOperationId(method, url);
      if (auth === 'public') out.security ??= [];
      else if (auth === 'optional') out.security ??= [{ bearer: [] }, { session: [] }, {}];
      const input = [schema.body, schema.params, schema.querystring].some((x) => x !== undefined);
      const shared = sharedErrors(method, input, auth);
      if (shared.length > 0)
        out.response = withErrors(schema.response as Record<string, unknown> | undefined, shared);
      return { schema: out, url };
    },
  };
}
