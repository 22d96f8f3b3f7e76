/** Schemas and helpers every capability's routes share: times, ids, paging, error answers. */
import { Type } from 'typebox';
import { ErrorBodySchema } from '../../protocol/api.js';

export const IsoTime = Type.String({ format: 'date-time' });
export const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);
export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
export const Paging = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
};

/** What each error status means here, for the OpenAPI document. */
export const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid; the message and details name the field',
  401: 'No valid credentials: a missing, unknown or revoked API token or session (or a key or node token that does not check out)',
  403: "The caller's role may not do this, or the request was refused for the reason in details",
  404: 'Not found (another owner’s data is not found either)',
  409: 'The request conflicts with the current state (the message says which)',
  413: 'The body is too large',
  415: 'The body is not sent as application/json',
  429: 'Too many attempts: wait for Retry-After seconds',
  503: 'The server cannot take this now: try again after Retry-After seconds',
};

/** Error answers a route may give, for the OpenAPI document (and the error handler's body). */
export function errors(...codes: number[]): Record<number, typeof ErrorBodySchema> {
  return Object.fromEntries(
    codes.map((c) => [
      c,
      Type.Object(ErrorBodySchema.properties, { description: ERROR_DESCRIPTIONS[c] ?? 'An error' }),
    ]),
  );
}

/**
 * A non-JSON answer for the OpenAPI document (a CSV export, a text file, a database file), by its
 * media type. The handler sends a string or a stream, which Fastify does not serialise.
 */
export function fileAnswer(mediaType: string, description: string, format?: 'binary') {
  return {
    description,
    content: { [mediaType]: { schema: { type: 'string', ...(format ? { format } : {}) } } },
  };
}

/** The answer to a WebSocket upgrade, for the OpenAPI document: `101 Switching Protocols`. */
export function switchingProtocols(description: string) {
  return { description, type: 'null' };
}

/** Times are stored as integer milliseconds and answered as ISO 8601. */
export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
