/**
 * The artifacts' bytes, content-addressed in the data folder: `artifacts/sha256/<hex>`. An upload
 * is streamed (never held whole in memory) into `artifacts/incoming/`, hashed and counted on the
 * way, fsynced, then renamed into place and the folder fsynced: a crash leaves either no file or
 * the whole one. The same bytes uploaded twice are stored once.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export class BlobTooLargeError extends Error {
  override readonly name = 'BlobTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`the upload is larger than ${maxBytes} bytes`);
  }
}

export interface StoredBlob {
  sha256: string;
  size: number;
}

export interface BlobStore {
  /** Streams `source` in; refuses (and removes) more than `maxBytes`. */
  put(source: Readable, maxBytes: number): Promise<StoredBlob>;
  /** Where the bytes of `sha256` are. */
  path(sha256: string): string;
  /** The size on disk, or undefined when the file is missing. */
  size(sha256: string): Promise<number | undefined>;
  remove(sha256: string): Promise<void>;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function createBlobStore(dataDir: string): BlobStore {
  const root = join(dataDir, 'artifacts');
  const blobs = join(root, 'sha256');
  const incoming = join(root, 'incoming');
  let ready: Promise<void> | undefined;
  const prepare = () =>
    (ready ??= (async () => {
      await mkdir(blobs, { recursive: true, mode: 0o700 });
      await mkdir(incoming, { recursive: true, mode: 0o700 });
    })());
  const path = (sha256: string) => {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`not a SHA-256: ${sha256}`);
    return join(blobs, sha256);
  };

  return {
    path,
    async put(source, maxBytes) {
      await prepare();
      const temp = join(incoming, randomBytes(12).toString('hex'));
      const hash = createHash('sha256');
      let size = 0;
      const file = await open(temp, 'wx', 0o600);
      try {
        // One chunk at a time, each written before the next is read: memory stays at one chunk.
        for await (const chunk of source as AsyncIterable<Buffer>) {
          size += chunk.length;
          if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
          hash.update(chunk);
          await file.write(chunk);
        }
        await file.sync();
      } catch (error) {
        await file.close().catch(() => undefined);
        await rm(temp, { force: true });
        throw error;
      }
      await file.close();
      const sha256 = hash.digest('hex');
      await rename(temp, path(sha256));
      await syncDir(blobs);
      return { sha256, size };
    },
    async size(sha256) {
      try {
        return (await stat(path(sha256))).size;
      } catch {
        return undefined;
      }
    },
    async remove(sha256) {
      await rm(path(sha256), { force: true });
    },
  };
}
