/**
 * The agent's state directory. Each file is written atomically and validated on read:
 * - `identity.json` (0600): the node's Ed25519 key pair, written before anything is sent;
 * - `enrollment-pending.json` (0600): the exact enrollment request while its answer is unknown,
 *   so that a crash or a lost answer is retried with the same key, public key and fingerprint;
 * - `node.json`: the enrollment the server recorded (node id, status, server);
 * - `preflight.json`: the last preflight result;
 * - `live-status.json`: the node's status as the daemon last heard it from the server (`welcome`,
 *   `status`, or a refusal), with when: `status` shows it instead of the one recorded at enrollment.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import {
  EnrollRequestSchema,
  EnrollResponseSchema,
  NodeStatusSchema,
  PublicJwkSchema,
} from '../../protocol/api.js';
import { CheckSchema } from '../../protocol/hardware.js';
import { readTextIfExists, removeFileDurably, writeFileAtomic } from './atomic-file.js';

export const IdentitySchema = Type.Object({
  version: Type.Literal(1),
  createdAt: Type.String(),
  publicKey: PublicJwkSchema,
  privateKey: Type.Object({
    kty: Type.Literal('OKP'),
    crv: Type.Literal('Ed25519'),
    x: Type.String(),
    d: Type.String(),
  }),
});
export type Identity = Static<typeof IdentitySchema>;

export const PendingEnrollmentSchema = Type.Object({
  serverUrl: Type.String(),
  startedAt: Type.String(),
  request: EnrollRequestSchema,
});
export type PendingEnrollment = Static<typeof PendingEnrollmentSchema>;

export const NodeRecordSchema = Type.Object({
  nodeId: Type.String(),
  status: EnrollResponseSchema.properties.status,
  serverUrl: Type.String(),
  fingerprint: Type.String(),
  enrolledAt: Type.String(),
  existing: Type.Optional(Type.Boolean()),
});
export type NodeRecord = Static<typeof NodeRecordSchema>;

export const PreflightRecordSchema = Type.Object({
  at: Type.String(),
  serverUrl: Type.Optional(Type.String()),
  failed: Type.Boolean(),
  checks: Type.Array(CheckSchema),
});
export type PreflightRecord = Static<typeof PreflightRecordSchema>;

export const LiveStatusSchema = Type.Object({
  nodeId: Type.String(),
  status: NodeStatusSchema,
  reason: Type.Union([Type.String(), Type.Null()]),
  learnedAt: Type.String(),
});
export type LiveStatus = Static<typeof LiveStatusSchema>;

export const STATE_FILES = {
  identity: 'identity.json',
  pending: 'enrollment-pending.json',
  node: 'node.json',
  preflight: 'preflight.json',
  live: 'live-status.json',
} as const;

/** A state file that exists but cannot be read back: never silently replaced. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

function slot<S extends TSchema>(dir: string, file: string, schema: S) {
  const path = join(dir, file);
  const validator = Compile(schema);
  return {
    path,
    async load(): Promise<Static<S> | undefined> {
      const text = await readTextIfExists(path);
      if (text === undefined) return undefined;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (cause) {
        throw new StateFileError(`${path} is not valid JSON`, { cause });
      }
      if (!validator.Check(value)) throw new StateFileError(`${path} does not have the expected fields`);
      return value;
    },
    async save(value: Static<S>): Promise<void> {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, 0o600);
    },
    clear: () => removeFileDurably(path),
  };
}

export function createStateStore(dir: string) {
  return {
    dir,
    identity: slot(dir, STATE_FILES.identity, IdentitySchema),
    pending: slot(dir, STATE_FILES.pending, PendingEnrollmentSchema),
    node: slot(dir, STATE_FILES.node, NodeRecordSchema),
    preflight: slot(dir, STATE_FILES.preflight, PreflightRecordSchema),
    live: slot(dir, STATE_FILES.live, LiveStatusSchema),
  };
}
export type StateStore = ReturnType<typeof createStateStore>;
