/** The artifacts' answers: schemas and the view of a stored artifact. */
import { Type, type Static } from 'typebox';
import {
  ArtifactNameSchema,
  ArtifactVersionSchema,
  ReleaseKeySchema,
  artifactPath,
} from '../../protocol/artifacts.js';
import { IsoTime, iso } from '../core/schemas.js';
import type { ArtifactRecord } from './artifact-repository.js';

export const ArtifactIdSchema = Type.Object({ name: ArtifactNameSchema, version: ArtifactVersionSchema });

export const ArtifactSchema = Type.Object({
  name: Type.String(),
  version: Type.String(),
  sha256: Type.String({ description: 'SHA-256 of the bytes, lower-case hex' }),
  size: Type.Integer({ description: 'bytes' }),
  signature: Type.String({
    description: 'compact JWS (EdDSA) by the release key over { name, version, sha256, size }',
  }),
  url: Type.String({ description: 'where approved nodes and ops download it (a path on this server)' }),
  uploadedAt: IsoTime,
});
export type ArtifactView = Static<typeof ArtifactSchema>;

export const ArtifactListSchema = Type.Object({ artifacts: Type.Array(ArtifactSchema) });

export const ReleaseKeyAnswerSchema = Type.Object({
  publicKey: ReleaseKeySchema,
});

export const DownloadsSchema = Type.Object({
  iso: Type.Union([
    Type.Object({
      version: Type.String(),
      sha256: Type.String(),
      size: Type.Integer(),
      url: Type.String(),
      checksumUrl: Type.String(),
      uploadedAt: IsoTime,
    }),
    Type.Null(),
  ]),
});

/** A binary answer in the OpenAPI document (the bytes are streamed, not serialised). */
export const binaryAnswer = (description: string) => ({
  description,
  content: { 'application/octet-stream': { schema: Type.String({ format: 'binary' }) } },
});

export const artifactView = (a: ArtifactRecord): ArtifactView => ({
  name: a.name,
  version: a.version,
  sha256: a.sha256,
  size: a.size,
  signature: a.signature,
  url: artifactPath(a.name, a.version),
  uploadedAt: iso(a.createdAt),
});
