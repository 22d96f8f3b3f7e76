/**
 * Artifacts: an upload is streamed into the blob store, signed with the release key and recorded
 * with its activity-log entry in one transaction; a name and version, once stored, never change.
 */
import type { Readable } from 'node:stream';
import { CompactSign } from 'jose';
import { ARTIFACT_SIGNATURE_TYPE, type ArtifactClaims } from '../../protocol/artifacts.js';
import type { Actor, ActivityLog } from '../core/activity-log.js';
import {
  ArtifactExistsError,
  PayloadTooLargeError,
  StorageFullError,
  ValidationError,
} from '../core/errors.js';
import type { SigningKey } from '../core/signing-key.js';
import type { Transactional } from '../core/transactions.js';
import type { ArtifactRecord, ArtifactRepository } from './artifact-repository.js';
import { BlobTooLargeError, type BlobStore } from './blob-store.js';

export interface ArtifactServiceDeps {
  repos: Transactional<{ artifacts: ArtifactRepository; activity: ActivityLog }>;
  blobs: BlobStore;
  releaseKey: SigningKey;
  maxBytes: number;
  now: () => number;
}

export interface Upload {
  name: string;
  version: string;
  body: Readable;
  /** The request's Content-Length, when it sent one. */
  declaredBytes?: number;
  actor: Actor;
}

/** The release key's signature over exactly these claims (compact JWS, EdDSA). */
export async function signArtifact(key: SigningKey, claims: ArtifactClaims): Promise<string> {
  const payload = { name: claims.name, version: claims.version, sha256: claims.sha256, size: claims.size };
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA', typ: ARTIFACT_SIGNATURE_TYPE, kid: key.keyId })
    .sign(key.privateKey);
}

const exists = (name: string, version: string) =>
  new ArtifactExistsError(
    `${name} ${version} was uploaded already, and an artifact never changes once stored. Upload the new file under a new version.`,
  );

const isNoSpace = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOSPC';

export function createArtifactService(deps: ArtifactServiceDeps) {
  const { repos, blobs } = deps;
  const tooLarge = () =>
    new PayloadTooLargeError(
      `Artifacts may be at most ${deps.maxBytes} bytes (HOMENODE_ARTIFACT_MAX_BYTES on the server).`,
    );

  return {
    get: (name: string, version: string) => repos.artifacts.get(name, version),
    newest: (name: string) => repos.artifacts.newest(name),
    list: (options: { name?: string; limit: number }) => repos.artifacts.list(options),

    async upload(upload: Upload): Promise<ArtifactRecord> {
      const { name, version } = upload;
      // Refused before a byte is read: a second upload of a version, or a body too large.
      if (await repos.artifacts.get(name, version)) throw exists(name, version);
      if (upload.declaredBytes !== undefined && upload.declaredBytes > deps.maxBytes) throw tooLarge();
      let stored;
      try {
        stored = await blobs.put(upload.body, deps.maxBytes);
      } catch (error) {
        if (error instanceof BlobTooLargeError) throw tooLarge();
        if (isNoSpace(error))
          throw new StorageFullError('The server has no room left for this file. Ops: free disk space.');
        throw error;
      }
      if (stored.size === 0) {
        await removeUnused(stored.sha256);
        throw new ValidationError('The upload is empty: send the file as the request body.');
      }
      const now = deps.now();
      const record: ArtifactRecord = {
        name,
        version,
        ...stored,
        signature: await signArtifact(deps.releaseKey, { name, version, ...stored }),
        uploadedBy: upload.actor.id,
        createdAt: now,
      };
      const inserted = await repos.transaction(async (tx) => {
        if (!(await tx.artifacts.insert(record))) return false;
        await tx.activity.record(
          now,
          upload.actor,
          'artifact.uploaded',
          { type: 'artifact', id: `${name}@${version}` },
          {
            sha256: stored.sha256,
            size: stored.size,
          },
        );
        return true;
      });
      if (!inserted) {
        // Another upload of the same version won the race; its bytes stay if they are the same.
        await removeUnused(stored.sha256);
        throw exists(name, version);
      }
      return record;
    },
  };

  async function removeUnused(sha256: string): Promise<void> {
    if ((await repos.artifacts.countBySha256(sha256)) === 0) await blobs.remove(sha256);
  }
}
export type ArtifactService = ReturnType<typeof createArtifactService>;
