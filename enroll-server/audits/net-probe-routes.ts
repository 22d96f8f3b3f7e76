/**
 * The network probe the audit's `network` check measures against (protocol/audit.ts): `GET
 * /v1/net-probe?bytes=N` answers N random bytes, `POST /v1/net-probe` counts the bytes it is sent
 * (streamed, never held in memory) and answers `{ bytes }`. Only nodes may call it, each request
 * with a fresh connection JWT of its own key (the control channel's replay guard applies), at most
 * `NET_PROBE_MAX_REQUESTS_PER_MINUTE` per node; the JWT is checked before any body is read.
 */
import { randomBytes } from 'node:crypto';
import { Type } from 'typebox';
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import {
  NET_PROBE_CONTENT_TYPE,
  NET_PROBE_MAX_REQUESTS_PER_MINUTE,
  NET_PROBE_MAX_UPLOAD_BYTES,
  NET_PROBE_PATH,
  NetProbeQuerySchema,
  NetProbeUploadAnswerSchema,
} from '../../protocol/audit.js';
import type { Policy } from '../../protocol/policy.js';
import { AppError, ForbiddenError, RateLimitedError, UnauthenticatedError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import { NodeAuthError, type ReplayCache, verifyNodeToken } from '../control/node-token.js';
import type { NodeRepository } from '../nodes/node-repository.js';

class BodyTooLargeError extends AppError {
  override readonly code = 'BODY_TOO_LARGE';
  override readonly status = 413;
}

export interface NetProbeDeps {
  repos: { nodes: NodeRepository };
  replay: ReplayCache;
  policy: Policy;
  now: () => number;
}

/** Random bytes (so that nothing on the way can compress them), sent over and over. */
const CHUNK = randomBytes(64 * 1024);
const WINDOW_MS = 60_000;

function probeBody(bytes: number): Readable {
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, CHUNK.length);
      left -= n;
      this.push(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
    },
  });
}

/** Requests per node in the current minute (in memory: a replica counts its own). */
function perNodeLimiter(now: () => number, limit: number) {
  const windows = new Map<string, { start: number; count: number }>();
  return (nodeId: string): number | undefined => {
    const t = now();
    if (windows.size > 50_000) for (const [k, w] of windows) if (t - w.start >= WINDOW_MS) windows.delete(k);
    const w = windows.get(nodeId);
    if (!w || t - w.start >= WINDOW_MS) {
      windows.set(nodeId, { start: t, count: 1 });
      return undefined;
    }
    w.count += 1;
    return w.count > limit ? Math.max(1, Math.ceil((w.start + WINDOW_MS - t) / 1000)) : undefined;
  };
}

export function netProbeRoutes(app: App, ctx: NetProbeDeps): void {
  const overLimit = perNodeLimiter(ctx.now, NET_PROBE_MAX_REQUESTS_PER_MINUTE);

  async function authenticate(request: FastifyRequest): Promise<void> {
    const token = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
    let status: string | undefined;
    let nodeId: string;
    try {
      ({ nodeId } = await verifyNodeToken(
        token,
        async (id) => {
          const node = await ctx.repos.nodes.get(id);
          status = node?.status;
          return node?.publicKey;
        },
        ctx.replay,
        { now: ctx.now, maxSkewSeconds: ctx.policy.maxClockSkewSeconds },
      ));
    } catch (error) {
      if (error instanceof NodeAuthError)
        throw new UnauthenticatedError(error.message, { details: { reason: error.code } });
      throw error;
    }
    if (status === 'revoked' || status === 'rejected')
      throw new ForbiddenError(`This machine was ${status}; it may not use the network probe.`);
    const retryAfter = overLimit(nodeId);
    if (retryAfter !== undefined)
      throw new RateLimitedError(
        `More than ${NET_PROBE_MAX_REQUESTS_PER_MINUTE} network probe requests in a minute from this machine; wait ${retryAfter} s.`,
        retryAfter,
      );
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > NET_PROBE_MAX_UPLOAD_BYTES) throw tooLarge();
  }

  const tooLarge = () =>
    new BodyTooLargeError(
      `The network probe accepts at most ${NET_PROBE_MAX_UPLOAD_BYTES} bytes per upload.`,
    );

  void app.register(async (scope) => {
    const probe = scope.withTypeProvider<TypeBoxTypeProvider>();
    // Uploads are counted as they arrive and thrown away.
    probe.addContentTypeParser(NET_PROBE_CONTENT_TYPE, (_request, payload, done) => {
      let bytes = 0;
      let failed = false;
      payload.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > NET_PROBE_MAX_UPLOAD_BYTES && !failed) {
          failed = true;
          payload.resume();
          done(tooLarge(), undefined);
        }
      });
      payload.on('end', () => {
        if (!failed) done(null, bytes);
      });
      payload.on('error', (error) => {
        if (!failed) done(error, undefined);
      });
    });

    probe.get(
      NET_PROBE_PATH,
      {
        schema: {
          tags: ['audits'],
          summary: 'Network probe for audits (nodes): download N random bytes',
          querystring: NetProbeQuerySchema,
          response: {
            200: Type.Unknown({ description: 'exactly `bytes` random bytes, application/octet-stream' }),
            ...errors(400, 401, 403, 429),
          },
        },
        config: { auth: 'public' },
        onRequest: authenticate,
      },
      async (request, reply) => {
        const { bytes } = request.query;
        return reply
          .type(NET_PROBE_CONTENT_TYPE)
          .header('content-length', String(bytes))
          .header('cache-control', 'no-store')
          .send(probeBody(bytes));
      },
    );

    probe.post(
      NET_PROBE_PATH,
      {
        schema: {
          tags: ['audits'],
          summary: 'Network probe for audits (nodes): upload bytes, answered with the count',
          response: { 200: NetProbeUploadAnswerSchema, ...errors(401, 403, 413, 415, 429) },
        },
        config: { auth: 'public' },
        onRequest: authenticate,
      },
      async (request) => ({ bytes: typeof request.body === 'number' ? request.body : 0 }),
    );
  });
}
