/**
 * Serves the built dashboard (`dist/web`, made by `scripts/build-web.ts`): hashed assets under
 * `/assets/` cached for a year, `index.html` for every client-side route with `no-cache`, and a
 * strict Content-Security-Policy (scripts only from this origin, nothing inline). The
 * troubleshooting guide, rendered at build time, is at `/docs/troubleshooting` (anchors per check).
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { SPA_PATHS } from './paths.js';

/**
 * `style-src 'unsafe-inline'`: xterm.js writes its own `<style>` elements for the terminal's theme;
 * scripts stay strictly same-origin.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.ico': 'image/x-icon',
};

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  });
}

export function registerDashboard(app: FastifyInstance, webDir: string): void {
  const notBuilt = (reply: FastifyReply) =>
    securityHeaders(reply)
      .code(503)
      .type('text/plain; charset=utf-8')
      .send('The dashboard has not been built. Run `npm run build:web` (npm start does it for you).\n');

  const index = async (_request: unknown, reply: FastifyReply) => {
    let html: Buffer;
    try {
      html = await readFile(join(webDir, 'index.html'));
    } catch {
      return notBuilt(reply);
    }
    return securityHeaders(reply)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(html);
  };
  for (const path of SPA_PATHS) app.get(path, { schema: { hide: true } }, index);

  app.get('/docs/troubleshooting', { schema: { hide: true } }, async (_request, reply) => {
    let html: Buffer;
    try {
      html = await readFile(join(webDir, 'docs', 'troubleshooting.html'));
    } catch {
      return notBuilt(reply);
    }
    return securityHeaders(reply)
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(html);
  });

  app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true } }, async (request, reply) => {
    const name = normalize(request.params['*']);
    const type = TYPES[extname(name)];
    if (!type || name.startsWith('..') || name.includes('/') || name.includes('\\')) {
      return reply.callNotFound();
    }
    let body: Buffer;
    try {
      body = await readFile(join(webDir, 'assets', name));
    } catch {
      return reply.callNotFound();
    }
    return securityHeaders(reply)
      .type(type)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(body);
  });
}
