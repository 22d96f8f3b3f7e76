/** Installation key schemas and views (never the secret or its hash). */
import { Type, type Static } from 'typebox';
import { maskInstallationKey } from '../../protocol/key.js';
import { IsoTime, NullableIsoTime, iso, isoOrNull } from '../core/schemas.js';
import type { InstallationKeyRecord } from './key-repository.js';

export const KeySchema = Type.Object({
  id: Type.String(),
  keyId: Type.String(),
  masked: Type.String({ description: 'the key with its secret hidden' }),
  ownerId: Type.String(),
  label: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
  expiresAt: IsoTime,
  maxUses: Type.Integer(),
  uses: Type.Integer(),
  revokedAt: NullableIsoTime,
  state: Type.Union([
    Type.Literal('active'),
    Type.Literal('expired'),
    Type.Literal('used'),
    Type.Literal('revoked'),
  ]),
});

export const CreatedKeySchema = Type.Intersect([
  KeySchema,
  Type.Object({ key: Type.String({ description: 'the installation key, shown only in this answer' }) }),
]);

export const CreateKeyBody = Type.Object(
  {
    ownerId: Type.Optional(Type.String({ maxLength: 64 })),
    ttlHours: Type.Optional(Type.Integer({ minimum: 1 })),
    maxUses: Type.Optional(Type.Integer({ minimum: 1 })),
    label: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export type KeyView = Static<typeof KeySchema>;

export function keyState(k: InstallationKeyRecord, now: number): KeyView['state'] {
  if (k.revokedAt !== null) return 'revoked';
  if (k.uses >= k.maxUses) return 'used';
  if (k.expiresAt <= now) return 'expired';
  return 'active';
}

export const keyView = (k: InstallationKeyRecord, now: number): KeyView => ({
  id: k.id,
  keyId: k.keyId,
  masked: maskInstallationKey(k.keyId),
  ownerId: k.ownerId,
  label: k.label,
  createdAt: iso(k.createdAt),
  expiresAt: iso(k.expiresAt),
  maxUses: k.maxUses,
  uses: k.uses,
  revokedAt: isoOrNull(k.revokedAt),
  state: keyState(k, now),
});
