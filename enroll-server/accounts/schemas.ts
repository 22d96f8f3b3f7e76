/** Owner and API token schemas and views (the views keep token hashes out). */
import { Type, type Static } from 'typebox';
import { RoleSchema } from '../../protocol/api.js';
import { ValidationError } from '../core/errors.js';
import { IsoTime, NullableIsoTime, iso, isoOrNull } from '../core/schemas.js';
import type { Owner } from './owner-repository.js';
import type { ApiTokenRecord } from './token-repository.js';

export const OwnerSchema = Type.Object({
  id: Type.String(),
  email: Type.String(),
  name: Type.String(),
  createdAt: IsoTime,
});

/** An owner's name as sent: trimmed before it is stored, and never empty once trimmed. */
export const OwnerNameSchema = Type.String({
  minLength: 1,
  maxLength: 200,
  description: 'Leading and trailing spaces are removed; a name that is only spaces is refused.',
});

/** The name to store: trimmed; a name of only spaces is refused with a 400 naming the field. */
export function ownerName(raw: string): string {
  const name = raw.trim();
  if (name === '')
    throw new ValidationError("The field 'name' is only spaces: give the owner's name.", {
      details: [{ field: 'name', message: 'must not be empty or only spaces' }],
    });
  return name;
}

export const CreateOwnerBody = Type.Object(
  {
    email: Type.String({ format: 'email', maxLength: 254 }),
    name: OwnerNameSchema,
  },
  { additionalProperties: false },
);

export const TokenSchema = Type.Object({
  id: Type.String(),
  role: RoleSchema,
  ownerId: Type.Union([Type.String(), Type.Null()]),
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
  revokedAt: NullableIsoTime,
});

export const CreateTokenBody = Type.Object(
  {
    role: RoleSchema,
    ownerId: Type.Optional(Type.String({ maxLength: 64 })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export type OwnerView = Static<typeof OwnerSchema>;
export type TokenView = Static<typeof TokenSchema>;

export const ownerView = (o: Owner): OwnerView => ({
  id: o.id,
  email: o.email,
  name: o.name,
  createdAt: iso(o.createdAt),
});

export const tokenView = (t: ApiTokenRecord): TokenView => ({
  id: t.id,
  role: t.role,
  ownerId: t.ownerId,
  label: t.label,
  createdAt: iso(t.createdAt),
  revokedAt: isoOrNull(t.revokedAt),
});
