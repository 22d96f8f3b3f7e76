/**
 * Agent updates over the air (DESIGN.md "Software on the node, and updates"): the server offers a
 * signed agent release with `update`; the node answers with `update-status` as it downloads,
 * installs, restarts, and finally becomes healthy or rolls back (docs/updates.md).
 */
import { Type, type Static } from 'typebox';
import { joinField } from './join-fields.js';
import { MAX_ARTIFACT_BYTES } from './artifacts.js';

/** The artifact name agent releases are uploaded under. */
export const AGENT_ARTIFACT = 'homenode-agent';
/** The manifest at the top of every release (and of the unpacked release folder). */
export const RELEASE_MANIFEST = 'release.json';
/** The agent's entry point inside a release. */
export const RELEASE_ENTRY = 'homenode-agent.mjs';
/** How long a new release has to say hello and be welcomed before the node rolls back. */
export const DEFAULT_UPDATE_HEALTH_SECONDS = 600;

const Id = Type.String({ minLength: 1, maxLength: 128 });

export const UpdateArtifactSchema = Type.Object({
  name: joinField('artifactName'),
  version: joinField('artifactVersion'),
  sha256: joinField('sha256'),
  size: Type.Integer({ minimum: 1, maximum: MAX_ARTIFACT_BYTES }),
  url: joinField('artifactUrl'),
  signature: joinField('jws'),
});
export type UpdateArtifact = Static<typeof UpdateArtifactSchema>;

export const UpdateMessageSchema = Type.Object({
  type: Type.Literal('update'),
  rolloutId: Id,
  artifact: UpdateArtifactSchema,
  /** Seconds the new release has to become healthy (absent: the default). */
  healthSeconds: Type.Optional(Type.Integer({ minimum: 10, maximum: 86_400 })),
});
export type UpdateMessage = Static<typeof UpdateMessageSchema>;

export const UPDATE_STATES = [
  'downloading',
  'installing',
  'restarting',
  'healthy',
  'rolled-back',
  'failed',
] as const;
export type UpdateState = (typeof UPDATE_STATES)[number];
export const UpdateStateSchema = Type.Union([
  Type.Literal('downloading'),
  Type.Literal('installing'),
  Type.Literal('restarting'),
  Type.Literal('healthy'),
  Type.Literal('rolled-back'),
  Type.Literal('failed'),
]);

export const UpdateStatusMessageSchema = Type.Object({
  type: Type.Literal('update-status'),
  rolloutId: Id,
  version: joinField('artifactVersion'),
  state: UpdateStateSchema,
  error: Type.Optional(Type.String({ maxLength: 4096 })),
});
export type UpdateStatusMessage = Static<typeof UpdateStatusMessageSchema>;

/** `release.json`: what build:agent writes and the agent reads its own version from. */
export const ReleaseManifestSchema = Type.Object({
  name: Type.Literal(AGENT_ARTIFACT),
  version: joinField('artifactVersion'),
  /** The Node.js version node-pty's native module was built for. */
  node: Type.String({ maxLength: 32 }),
  entry: Type.Literal(RELEASE_ENTRY),
});
export type ReleaseManifest = Static<typeof ReleaseManifestSchema>;
