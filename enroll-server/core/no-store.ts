/**
 * Answers of the API are never kept by a browser or a proxy: several carry secrets shown once (a
 * new API token or installation key, a session's CSRF token) and the rest are private data. Every
 * `/v1` answer gets `Cache-Control: no-store` unless its route set a policy of its own.
 */
import type { FastifyInstance } from 'fastify';

export function registerNoStore(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.url.startsWith('/v1/') && !reply.hasHeader('cache-control'))
      void reply.header('cache-control', 'no-store');
    return payload;
  });
}
