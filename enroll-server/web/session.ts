/** Who is signed in, as `GET /v1/session` says. */
import { api, setCsrfToken } from './api.js';

export type Role = 'admin' | 'ops' | 'reviewer' | 'owner';

export interface Session {
  role: Role;
  ownerId: string | null;
  email: string | null;
  name: string | null;
  csrfToken: string | null;
}

export async function loadSession(): Promise<Session | null> {
  const session = await api<(Session & { signedIn: true }) | { signedIn: false }>('GET', '/v1/session');
  if (!session.signedIn) return null;
  setCsrfToken(session.csrfToken);
  return session;
}

export async function signIn(
  body: { token: string } | { email: string; password: string },
): Promise<Session> {
  const session = await api<Session>('POST', '/v1/session', body);
  setCsrfToken(session.csrfToken);
  return session;
}

export async function signUp(body: { email: string; name: string; password: string }): Promise<Session> {
  const session = await api<Session>('POST', '/v1/signup', body);
  setCsrfToken(session.csrfToken);
  return session;
}

export async function signOut(): Promise<void> {
  await api('DELETE', '/v1/session');
  setCsrfToken(null);
}

export const can = {
  operate: (s: Session) => s.role === 'ops' || s.role === 'admin',
  review: (s: Session) => s.role === 'reviewer' || s.role === 'admin',
  readFleet: (s: Session) => s.role !== 'owner',
};

export function homeFor(session: Session): string {
  if (session.role === 'owner') return '/machines';
  if (session.role === 'reviewer') return '/payouts';
  return '/fleet';
}
