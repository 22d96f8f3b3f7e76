/**
 * How replicas authenticate to each other on their internal routes: a short-lived JWT (HS256)
 * signed with the secret every replica shares (`HOMENODE_REPLICA_SECRET`), naming the sending
 * replica, the one it is for, what it may do (one node's shell) and for whom (the operator's
 * token, checked again by the receiver). Anything else is refused.
 */
import { SignJWT, jwtVerify } from 'jose';
import type { Role } from '../../protocol/api.js';

export const REPLICA_AUDIENCE = 'homenode-replica';
const TTL_SECONDS = 30;

export interface ShellGrant {
  /** The replica that asks. */
  from: string;
  /** The replica that holds the node. */
  to: string;
  nodeId: string;
  principal: { tokenId: string; role: Role; ownerId: string | null };
}

export class ReplicaAuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicaAuthError';
  }
}

const key = (secret: string) => new TextEncoder().encode(secret);

export async function signShellGrant(secret: string, grant: ShellGrant, now: number): Promise<string> {
  const iat = Math.floor(now / 1000);
  return new SignJWT({ nodeId: grant.nodeId, principal: grant.principal, scope: 'shell' })
    .setProtectedHeader({ alg: 'HS256', typ: 'homenode-replica+jwt' })
    .setIssuer(grant.from)
    .setSubject(grant.to)
    .setAudience(REPLICA_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TTL_SECONDS)
    .sign(key(secret));
}

const ROLES: readonly Role[] = ['admin', 'ops', 'reviewer', 'owner'];
const ID = /^[A-Za-z0-9_-]{1,100}$/;

/** The grant, if the token was signed with the shared secret, for this replica, and has not expired. */
export async function verifyShellGrant(
  secret: string,
  token: string,
  self: string,
  now: number,
): Promise<ShellGrant> {
  let payload;
  try {
    ({ payload } = await jwtVerify(token, key(secret), {
      algorithms: ['HS256'],
      audience: REPLICA_AUDIENCE,
      subject: self,
      currentDate: new Date(now),
      maxTokenAge: `${TTL_SECONDS + 5}s`,
      requiredClaims: ['iss', 'sub', 'exp', 'iat'],
    }));
  } catch (error) {
    throw new ReplicaAuthError(`The replica token was refused: ${(error as Error).message}.`);
  }
  const principal = payload.principal as Record<string, unknown> | undefined;
  const nodeId = payload.nodeId;
  if (
    payload.scope !== 'shell' ||
    typeof nodeId !== 'string' ||
    !ID.test(nodeId) ||
    typeof payload.iss !== 'string' ||
    typeof principal?.tokenId !== 'string' ||
    !ROLES.includes(principal.role as Role) ||
    !(principal.ownerId === null || typeof principal.ownerId === 'string')
  )
    throw new ReplicaAuthError('The replica token does not grant a shell.');
  return {
    from: payload.iss,
    to: self,
    nodeId,
    principal: { tokenId: principal.tokenId, role: principal.role as Role, ownerId: principal.ownerId },
  };
}
