/**
 * The installer for home users (DESIGN.md "The ISO for home users"): the newest `homenode-iso`
 * artifact at `GET /download/homenode.iso` (public, `Range`, a filename), its checksum beside it as
 * `sha256sum -c` reads it, and `GET /v1/downloads` for the dashboard's add-machine page.
 */
import { ISO_ARTIFACT } from '../../protocol/artifacts.js';
import { NotFoundError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { errors, iso } from '../core/schemas.js';
import type { ArtifactService } from './artifact-service.js';
import type { BlobStore } from './blob-store.js';
import type { DownloadSlots } from './download-slots.js';
import { DownloadsSchema, binaryAnswer } from './schemas.js';
import { sendBlob } from './send-blob.js';

export const ISO_PATH = '/download/homenode.iso';
export const ISO_CHECKSUM_PATH = '/download/homenode.iso.sha256';
const ISO_FILENAME = 'homenode.iso';

const noIso = () =>
  new NotFoundError(
    'No Home Node installer image has been published on this server yet. Ask the operations team ' +
      'for it (ops publish one with: npm run admin -- artifacts upload --name homenode-iso --version V FILE).',
  );

export function downloadRoutes(
  app: App,
  ctx: { artifacts: ArtifactService; blobs: BlobStore; slots: DownloadSlots },
): void {
  app.get(
    '/v1/downloads',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'What home users can download (the installer image), with its checksum',
        response: { 200: DownloadsSchema },
      },
      config: { auth: 'public' },
    },
    async () => {
      const image = await ctx.artifacts.newest(ISO_ARTIFACT);
      return {
        iso: image
          ? {
              version: image.version,
              sha256: image.sha256,
              size: image.size,
              url: ISO_PATH,
              checksumUrl: ISO_CHECKSUM_PATH,
              uploadedAt: iso(image.createdAt),
            }
          : null,
      };
    },
  );

  app.get(
    ISO_PATH,
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Download the newest Home Node installer image (Range supported)',
        response: {
          200: binaryAnswer('The ISO'),
          206: binaryAnswer('The requested byte range'),
          ...errors(404, 416, 429),
        },
      },
      config: { auth: 'public' },
    },
    async (request, reply) => {
      const image = await ctx.artifacts.newest(ISO_ARTIFACT);
      if (!image) throw noIso();
      reply.raw.once('close', ctx.slots.take(`ip:${request.ip}`));
      void reply.header('x-homenode-iso-version', image.version);
      // no-cache: a newer image may replace this one at the same address; the ETag revalidates.
      return sendBlob(request, reply, ctx.blobs, {
        sha256: image.sha256,
        size: image.size,
        filename: ISO_FILENAME,
        cacheControl: 'no-cache',
      });
    },
  );

  app.get(
    ISO_CHECKSUM_PATH,
    {
      schema: {
        tags: ['artifacts'],
        summary: "The installer image's SHA-256, as `sha256sum -c` reads it",
        response: {
          200: {
            description: '`<sha256>  homenode.iso`',
            content: { 'text/plain': { schema: { type: 'string' } } },
          },
          ...errors(404),
        },
      },
      config: { auth: 'public' },
    },
    async (_request, reply) => {
      const image = await ctx.artifacts.newest(ISO_ARTIFACT);
      if (!image) throw noIso();
      return reply
        .type('text/plain; charset=utf-8')
        .header('cache-control', 'no-cache')
        .header('x-homenode-iso-version', image.version)
        .send(`${image.sha256}  ${ISO_FILENAME}\n`);
    },
  );
}
