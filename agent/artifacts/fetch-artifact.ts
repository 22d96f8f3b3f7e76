/**
 * Getting one artifact a join names onto this machine, verified (DESIGN.md "Software on the node"):
 * 1. its signature must verify with the release key this image carries, over exactly the name,
 *    version, SHA-256 and size the join names: otherwise nothing is downloaded;
 * 2. a local copy with that SHA-256 (the image's own k3s, or a finished earlier download) is used
 *    as it is; otherwise it is downloaded, resuming after a cut;
 * 3. the downloaded bytes must have that SHA-256 and size: otherwise they are deleted.
 * Every refusal is an `ArtifactRefusedError` whose message is a sentence for the console and ops.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { JWK } from 'jose';
import { type ArtifactClaims, verifyArtifactSignature } from '../../protocol/artifacts.js';
import type { ArtifactRef } from '../../protocol/control.js';
import { syncDirectory, syncFile } from '../state/atomic-file.js';
import { DownloadRefusedError, downloadResumable } from './download.js';

export class ArtifactRefusedError extends Error {
  override readonly name = 'ArtifactRefusedError';
}

export interface FetchDeps {
  /** The release key from the image's config; undefined when the image has none. */
  releaseKey: JWK | undefined;
  /** The server URL the agent talks to (paths in a join are on its origin). */
  serverUrl: string;
  serverPin?: string | undefined;
  /** A fresh single-use node token for artifact downloads from the server. */
  nodeToken: () => Promise<string>;
  downloadDir: string;
  onProgress?: (what: string, received: number, size: number, event: 'start' | 'data') => void;
  attempts?: number;
  retryDelayMs?: number;
}

export async function sha256OfFile(path: string): Promise<string | undefined> {
  try {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } catch {
    return undefined;
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Checks the release key's signature over what the join names; throws when it does not verify. */
export async function checkSignature(
  claims: ArtifactClaims,
  signature: string,
  deps: FetchDeps,
): Promise<void> {
  const what = `${claims.name} ${claims.version}`;
  if (!deps.releaseKey) {
    throw new ArtifactRefusedError(
      `This machine has no release key ("releaseKey" in /etc/homenode/config.json), so it cannot check ` +
        `${what} from the server and installs nothing. Write a new USB stick from an image built with ` +
        'npm run build:iso (it adds the key).',
    );
  }
  const check = await verifyArtifactSignature(signature, deps.releaseKey, claims);
  if (!check.ok) {
    throw new ArtifactRefusedError(
      `${what} was refused and nothing was downloaded or installed: ${check.problem}. Either the ` +
        "server's release key changed (then this machine needs an image built with the new key) or " +
        'the join was altered on the way. The agent tries again later.',
    );
  }
}

/** Where a join's URL points: a path is on the server's own origin (and gets the node's token). */
export function resolveArtifactUrl(url: string, serverUrl: string): { url: URL; sameOrigin: boolean } {
  const server = new URL(serverUrl);
  const resolved = new URL(url, server);
  if (resolved.protocol !== 'https:' && resolved.origin !== server.origin) {
    throw new ArtifactRefusedError(`the artifact URL ${url} is neither https:// nor on this server`);
  }
  return { url: resolved, sameOrigin: resolved.origin === server.origin };
}

/**
 * The verified file for `ref`: `local` when a copy with its SHA-256 is there, else a download into
 * `downloadDir/<sha256>` (kept until the caller deletes it).
 */
export async function fetchArtifact(
  name: string,
  ref: ArtifactRef,
  deps: FetchDeps,
  local: string[] = [],
): Promise<string> {
  const claims = { name, version: ref.version, sha256: ref.sha256, size: ref.size };
  await checkSignature(claims, ref.signature, deps);
  const done = join(deps.downloadDir, ref.sha256);
  for (const candidate of [...local, done]) {
    const size = await stat(candidate).then(
      (s) => s.size,
      () => undefined,
    );
    if (size === ref.size && (await sha256OfFile(candidate)) === ref.sha256) return candidate;
  }
  const what = `${name} ${ref.version}`;
  const { url, sameOrigin } = resolveArtifactUrl(ref.url, deps.serverUrl);
  await mkdir(deps.downloadDir, { recursive: true, mode: 0o700 });
  const part = `${done}.part`;
  try {
    await downloadResumable({
      url,
      size: ref.size,
      sha256: ref.sha256,
      partPath: part,
      headers: async (): Promise<Record<string, string>> =>
        sameOrigin ? { authorization: `Bearer ${await deps.nodeToken()}` } : {},
      serverPin: sameOrigin ? deps.serverPin : undefined,
      onProgress: (received, size, event) => deps.onProgress?.(what, received, size, event),
      ...(deps.attempts ? { attempts: deps.attempts } : {}),
      ...(deps.retryDelayMs ? { retryDelayMs: deps.retryDelayMs } : {}),
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (error instanceof DownloadRefusedError) {
      await rm(part, { force: true });
      throw new ArtifactRefusedError(`Downloading ${what} (${mb(ref.size)}) was refused: ${reason}.`);
    }
    // What arrived stays in the .part file: the next try resumes from there.
    throw new Error(
      `Downloading ${what} (${mb(ref.size)}) did not finish: ${reason}. It resumes on the next try.`,
      {
        cause: error,
      },
    );
  }
  const actual = await sha256OfFile(part);
  if (actual !== ref.sha256) {
    await rm(part, { force: true });
    throw new ArtifactRefusedError(
      `${what} was refused and not installed: the downloaded file's SHA-256 is ${actual ?? 'unreadable'}, ` +
        `not the signed ${ref.sha256}. The file was changed on the server or on the way; it was ` +
        'deleted, and the agent tries again later. Ops: upload the right file under a new version.',
    );
  }
  await syncFile(part);
  await rename(part, done);
  await syncDirectory(deps.downloadDir);
  return done;
}
