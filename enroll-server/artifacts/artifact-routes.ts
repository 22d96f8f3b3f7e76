/**
 * Artifacts over HTTP (DESIGN.md "Software on the node"): `POST /v1/artifacts?name=&version=`
 * (admin, ops; the raw file as the body), `GET /v1/artifacts` (the list), `GET
 * /v1/artifacts/:name/:version` (ops, and approved nodes with their own JWT; `Range` supported)
 * and `GET /v1/release-key` (public: what the ISO carries to check signatures with).
 */
import { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { ARTIFACT_AUDIENCE } from '../../protocol/artifacts.js';
import { actorOf, principalOf } from '../core/auth.js';
import {
  ForbiddenError,
  NodeNotApprovedError,
  NotFoundError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
} from '../core/errors.js';
import type { App } from '../core/http.js';
import type { SigningKey } from '../core/signing-key.js';
import { errors } from '../core/schemas.js';
import {
  type NodeAuthDeps,
  asHttpError,
  authenticateNode,
  bearerToken,
  looksLikeJwt,
} from '../control/node-auth.js';
import type { ArtifactService } from './artifact-service.js';
import type { BlobStore } from './blob-store.js';
import type { DownloadSlots } from './download-slots.js';
import {
  ArtifactIdSchema,
  ArtifactListSchema,
  ArtifactSchema,
  ReleaseKeyAnswerSchema,
  artifactView,
  binaryAnswer,
} from './schemas.js';
import { sendBlob } from './send-blob.js';

export interface ArtifactRouteDeps {
  artifacts: ArtifactService;
  blobs: BlobStore;
  releaseKey: SigningKey;
  nodeAuth: NodeAuthDeps;
  slots: DownloadSlots;
}

const OPS = ['admin', 'ops'] as const;

/** Who is downloading: ops (API token or dashboard session) or an approved node (its JWT). */
async function downloader(request: FastifyRequest, nodeAuth: NodeAuthDeps): Promise<string> {
  const principal = request.principal;
  if (principal) {
    if (principal.role === 'admin' || principal.role === 'ops') return `token:${principal.tokenId}`;
    throw new ForbiddenError(
      `The ${principal.role} role may not download artifacts: only ops and approved nodes may.`,
    );
  }
  if (!looksLikeJwt(bearerToken(request.headers.authorization))) {
    throw new UnauthenticatedError(
      'Downloading an artifact needs an ops API token, or an approved node\'s own token: send "Authorization: Bearer <token>".',
    );
  }
  let node;
  try {
    node = await authenticateNode(request.headers.authorization, ARTIFACT_AUDIENCE, nodeAuth);
  } catch (error) {
    throw asHttpError(error);
  }
  if (node.status !== 'approved' && node.status !== 'active') {
    throw new NodeNotApprovedError(
      `This machine is ${node.status}: it may download software once the operations team approves it.`,
    );
  }
  return `node:${node.id}`;
}

export function artifactRoutes(app: App, ctx: ArtifactRouteDeps): void {
  app.get(
    '/v1/release-key',
    {
      schema: {
        tags: ['artifacts'],
        summary: "The release key's public JWK (artifact signatures verify with it)",
        response: { 200: ReleaseKeyAnswerSchema },
      },
      config: { auth: 'public' },
    },
    async () => ({ publicKey: ctx.releaseKey.publicJwk }),
  );

  app.get(
    '/v1/artifacts',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'List artifacts, newest first',
        querystring: Type.Object({
          name: Type.Optional(ArtifactIdSchema.properties.name),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 200 })),
        }),
        response: { 200: ArtifactListSchema, ...errors(400, 401, 403) },
      },
      config: { auth: OPS },
    },
    async (request) => ({
      artifacts: (
        await ctx.artifacts.list({
          limit: request.query.limit ?? 200,
          ...(request.query.name ? { name: request.query.name } : {}),
        })
      ).map(artifactView),
    }),
  );

  app.get(
    '/v1/artifacts/:name/:version',
    {
      schema: {
        tags: ['artifacts'],
        summary: 'Download an artifact (ops, or an approved node with its JWT); Range supported',
        params: ArtifactIdSchema,
        response: {
          200: binaryAnswer('The whole file'),
          206: binaryAnswer('The requested byte range (Content-Range)'),
          ...errors(401, 403, 404, 416, 429),
        },
      },
      config: { auth: 'optional' },
    },
    async (request, reply) => {
      const client = await downloader(request, ctx.nodeAuth);
      const { name, version } = request.params;
      const artifact = await ctx.artifacts.get(name, version);
      if (!artifact) throw new NotFoundError(`There is no artifact ${name} ${version}.`);
      const release = ctx.slots.take(client);
      reply.raw.once('close', release);
      return sendBlob(request, reply, ctx.blobs, {
        sha256: artifact.sha256,
        size: artifact.size,
        filename: `${name}-${version}`,
        cacheControl: 'private, max-age=31536000, immutable',
      });
    },
  );

  // The upload takes the raw body as a stream, in its own scope so no other route reads bodies so.
  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const passThrough = (
      _request: FastifyRequest,
      payload: NodeJS.ReadableStream,
      done: (e: null, body: unknown) => void,
    ) => done(null, payload);
    scope.addContentTypeParser('application/octet-stream', passThrough);
    scope.addContentTypeParser('*', passThrough);
    scope.post(
      '/v1/artifacts',
      {
        schema: {
          tags: ['artifacts'],
          summary: 'Upload an artifact: the file as the raw body (application/octet-stream)',
          querystring: ArtifactIdSchema,
          response: { 201: ArtifactSchema, ...errors(400, 401, 403, 409, 413, 415, 507) },
        },
        config: { auth: OPS },
      },
      async (request, reply) => {
        const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
        if (type !== 'application/octet-stream' || !(request.body instanceof Readable)) {
          if (request.body instanceof Readable) request.body.resume();
          throw new UnsupportedMediaTypeError(
            'Send the file as the raw request body with "Content-Type: application/octet-stream".',
          );
        }
        const length = Number(request.headers['content-length']);
        const record = await ctx.artifacts.upload({
          name: request.query.name,
          version: request.query.version,
          body: request.body,
          ...(Number.isInteger(length) ? { declaredBytes: length } : {}),
          actor: actorOf(principalOf(request)),
        });
        return reply.code(201).header('cache-control', 'no-store').send(artifactView(record));
      },
    );
  });
}
