/**
 * Answers a download of stored bytes: `ETag` (the SHA-256, quoted), `Accept-Ranges: bytes`,
 * `Content-Length`, a filename, `If-None-Match` (304), and one `Range` (206 with `Content-Range`,
 * or 416 with a `Content-Range` naming the size), honoured only while `If-Range` names these bytes.
 * A HEAD request reads nothing from disk.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { NotFoundError, RangeNotSatisfiableError } from '../core/errors.js';
import { parseRange } from './byte-range.js';
import type { BlobStore } from './blob-store.js';

export interface BlobDownload {
  sha256: string;
  size: number;
  filename: string;
  cacheControl: string;
}

/** `"<sha256>"`: a strong validator that never changes for these bytes. */
export const etagOf = (sha256: string) => `"${sha256}"`;

export async function sendBlob(
  request: FastifyRequest,
  reply: FastifyReply,
  blobs: BlobStore,
  download: BlobDownload,
): Promise<FastifyReply> {
  const { sha256, size } = download;
  const onDisk = await blobs.size(sha256);
  if (onDisk !== size) {
    request.log.error({ event: 'artifact_missing', sha256, onDisk, size }, 'artifact bytes missing on disk');
    throw new NotFoundError(
      'The file for this artifact is missing or damaged on the server. Ops: upload it again under a new version.',
    );
  }
  const etag = etagOf(sha256);
  const common = { etag, 'accept-ranges': 'bytes', 'cache-control': download.cacheControl };
  const noneMatch = request.headers['if-none-match'];
  if (noneMatch !== undefined && noneMatch.split(',').some((tag) => tag.trim() === etag)) {
    return reply.code(304).headers(common).send();
  }
  const ifRange = request.headers['if-range'];
  const range =
    typeof ifRange !== 'string' || ifRange.trim() === etag
      ? parseRange(request.headers.range, size)
      : ({ kind: 'whole' } as const);
  if (range.kind === 'unsatisfiable') {
    throw new RangeNotSatisfiableError(
      `The range "${request.headers.range ?? ''}" is outside this ${size}-byte file.`,
      { headers: { ...common, 'content-range': `bytes */${size}` } },
    );
  }
  void reply
    .headers(common)
    .header('content-disposition', `attachment; filename="${download.filename}"`)
    .type('application/octet-stream');
  const [start, end] = range.kind === 'part' ? [range.start, range.end] : [0, size - 1];
  if (range.kind === 'part') void reply.code(206).header('content-range', `bytes ${start}-${end}/${size}`);
  void reply.header('content-length', String(end - start + 1));
  // HEAD: Fastify drains whatever stream it is given; an empty one keeps the disk out of it.
  if (request.method === 'HEAD') return reply.send(Readable.from([]));
  return reply.send(createReadStream(blobs.path(sha256), { start, end }));
}
