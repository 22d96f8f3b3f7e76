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

/** Error answers a route may give, for the OpenAPI document. */
export function errors(...codes: number[]): Record<number, typeof ErrorBodySchema> {
  return Object.fromEntries(codes.map((c) => [c, ErrorBodySchema]));
}

/** Times are stored as integer milliseconds and answered as ISO 8601. */
export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));
