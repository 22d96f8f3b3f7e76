/** Answer schemas of the attestation routes (what the OpenAPI document shows and answers keep to). */
import { Type } from 'typebox';
import { IsoTime } from '../core/schemas.js';

const Attribute = Type.Object({ key: Type.String(), value: Type.String() });

export const AuditorSchema = Type.Object(
  {
    auditorId: Type.String({ description: 'The auditor account (akash1…) or homenode-auditor:<thumbprint>' }),
    publicKey: Type.Object({
      kty: Type.Literal('OKP'),
      crv: Type.Literal('Ed25519'),
      x: Type.String(),
      kid: Type.String(),
      alg: Type.Literal('EdDSA'),
      use: Type.Literal('sig'),
    }),
  },
  { description: "The auditor's id and public key (a JWK)" },
);

export const AttestationSchema = Type.Object(
  { jws: Type.String({ description: 'Compact JWS (EdDSA, typ homenode-attestation+jwt)' }) },
  { description: "The node's current attestation" },
);

export const ProviderAttributesSchema = Type.Object(
  {
    attributes: Type.Array(Attribute),
    auditorId: Type.String(),
    jws: Type.String({ description: 'Compact JWS (EdDSA, typ homenode-provider-attributes+jwt)' }),
    providerAddress: Type.Union([Type.String(), Type.Null()]),
    attestedNodes: Type.Integer({ minimum: 0 }),
  },
  { description: 'The attributes the managed provider may advertise, from attested nodes only' },
);

export const ChainPublicationSchema = Type.Object(
  {
    message: Type.Object({
      '@type': Type.Literal('/akash.audit.v1.MsgSignProviderAttributes'),
      owner: Type.String(),
      auditor: Type.String(),
      attributes: Type.Array(Attribute),
    }),
    argv: Type.Array(Type.String()),
    command: Type.String(),
  },
  { description: 'The transaction message and the CLI command that publish the attributes on chain' },
);

export const PlacementMatchSchema = Type.Object(
  {
    placements: Type.Array(
      Type.Object({
        name: Type.String(),
        eligible: Type.Boolean(),
        nodes: Type.Array(Type.String()),
        reasons: Type.Array(Type.String()),
      }),
    ),
  },
  { description: 'For each placement of the SDL: whether the attested fleet can serve it, where, why not' },
);

const Figure = Type.Object({
  name: Type.String(),
  unit: Type.String(),
  description: Type.String(),
  higherIsBetter: Type.Boolean(),
  samples: Type.Integer({ minimum: 0 }),
  p10: Type.Number(),
  median: Type.Number(),
  p90: Type.Number(),
  medianPerUsd: Type.Union([Type.Number(), Type.Null()]),
});

export const PerformanceSchema = Type.Object(
  {
    generatedAt: IsoTime,
    minNodesForFigures: Type.Integer({ minimum: 1 }),
    rateCardVersion: Type.Union([Type.Integer(), Type.Null()]),
    classes: Type.Array(
      Type.Object({
        gpuClass: Type.String(),
        nodes: Type.Integer({ minimum: 0 }),
        gpus: Type.Integer({ minimum: 0 }),
        availabilityUusdPerGpuHour: Type.Union([Type.String({ pattern: '^[0-9]+$' }), Type.Null()]),
        figures: Type.Array(Figure),
      }),
    ),
  },
  { description: 'The public performance board: per GPU class, counts and quantiles (no ids)' },
);

export const StandingSchema = Type.Object(
  {
    attested: Type.Boolean({ description: 'false while the last audit did not pass (then no classes)' }),
    classes: Type.Array(
      Type.Object({
        gpuClass: Type.String(),
        nodes: Type.Integer({ minimum: 0 }),
        figures: Type.Array(
          Type.Object({
            name: Type.String(),
            unit: Type.String(),
            description: Type.String(),
            value: Type.Number(),
            percentile: Type.Integer({ minimum: 0, maximum: 100 }),
            higherIsBetter: Type.Boolean(),
          }),
        ),
      }),
    ),
  },
  { description: 'Where the machine stands in its GPU class, per figure' },
);
