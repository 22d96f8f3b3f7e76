/** The dashboard's session cookie, as every sign-in sets it (HttpOnly, SameSite=Strict, Secure on https). */
import type {} from '@fastify/cookie';
import type { FastifyReply } from 'fastify';
import { SESSION_COOKIE } from '../core/auth.js';

export function setSessionCookie(
  reply: FastifyReply,
  secret: string,
  options: { secure: boolean; maxAgeMs: number },
): void {
  void reply.setCookie(SESSION_COOKIE, secret, {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: options.secure,
    maxAge: Math.floor(options.maxAgeMs / 1000),
  });
}
