/**
 * Verifies a node's connection JWT (DESIGN.md "Node identity"): EdDSA, signed by the node's own
 * key, `aud` homenode-control (or the audience of another node route, such as artifact downloads),
 * `sub` the node id, `exp` at most 5 minutes after `iat`, and a `jti`
 * never seen before. Failures say what is wrong, including a clock that is off.
 */
import { type JWTPayload, decodeJwt, errors as joseErrors, importJWK, jwtVerify } from 'jose';
import { CONTROL_AUDIENCE, MAX_JWT_TTL_SECONDS } from '../../protocol/control.js';
import type { PublicJwk } from '../../protocol/api.js';

export class NodeAuthError extends Error {
  constructor(
    readonly code:
      'TOKEN_MISSING' | 'TOKEN_INVALID' | 'TOKEN_EXPIRED' | 'CLOCK_SKEW' | 'TOKEN_REPLAYED' | 'NODE_UNKNOWN',
    message: string,
  ) {
    super(message);
    this.name = 'NodeAuthError';
  }
}

/** Remembers `jti`s until their token expires, so a captured token cannot be replayed. */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  private sweepAt = 0;

  constructor(private readonly now: () => number) {}

  /** False when the jti was already used. */
  use(jti: string, expiresAtMs: number): boolean {
    const t = this.now();
    if (t >= this.sweepAt) {
      for (const [k, exp] of this.seen) if (exp <= t) this.seen.delete(k);
      this.sweepAt = t + 30_000;
    }
    const existing = this.seen.get(jti);
    if (existing !== undefined && existing > t) return false;
    this.seen.set(jti, expiresAtMs);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }
}

function describeSkew(seconds: number): string {
  const abs = Math.abs(seconds);
  const amount = abs >= 120 ? `${Math.round(abs / 60)} minutes` : `${Math.round(abs)} seconds`;
  return `This machine's clock is ${amount} ${seconds > 0 ? 'ahead of' : 'behind'} the server's. Set the correct time (NTP) and the agent will connect.`;
}

export async function verifyNodeToken(
  token: string | undefined,
  lookupKey: (nodeId: string) => Promise<PublicJwk | undefined>,
  replay: ReplayCache,
  options: { now: () => number; maxSkewSeconds: number; audience?: string },
): Promise<{ nodeId: string; jti: string; expiresAt: number }> {
  if (!token) throw new NodeAuthError('TOKEN_MISSING', 'No node token: send "Authorization: Bearer <JWT>".');
  let claims: JWTPayload;
  try {
    claims = decodeJwt(token);
  } catch {
    throw new NodeAuthError('TOKEN_INVALID', 'The node token is not a JWT.');
  }
  const nodeId = claims.sub;
  const publicKey = nodeId ? await lookupKey(nodeId) : undefined;
  if (!nodeId || !publicKey)
    throw new NodeAuthError('NODE_UNKNOWN', 'This node is not known to the server. Enroll it again.');
  const nowSeconds = options.now() / 1000;
  if (typeof claims.iat === 'number' && claims.iat - nowSeconds > options.maxSkewSeconds) {
    throw new NodeAuthError('CLOCK_SKEW', describeSkew(claims.iat - nowSeconds));
  }
  try {
    await jwtVerify(token, await importJWK(publicKey, 'EdDSA'), {
      audience: options.audience ?? CONTROL_AUDIENCE,
      subject: nodeId,
      algorithms: ['EdDSA'],
      currentDate: new Date(options.now()),
      clockTolerance: options.maxSkewSeconds,
      maxTokenAge: `${MAX_JWT_TTL_SECONDS + options.maxSkewSeconds}s`,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
  } catch (error) {
    if (
      error instanceof joseErrors.JWTExpired &&
      typeof claims.iat === 'number' &&
      nowSeconds - claims.iat > MAX_JWT_TTL_SECONDS * 2
    ) {
      throw new NodeAuthError('CLOCK_SKEW', describeSkew(claims.iat - nowSeconds));
    }
    if (error instanceof joseErrors.JWTExpired)
      throw new NodeAuthError('TOKEN_EXPIRED', 'The node token has expired.');
    throw new NodeAuthError('TOKEN_INVALID', `The node token was refused: ${(error as Error).message}.`);
  }
  const exp = claims.exp ?? 0;
  const iat = claims.iat ?? 0;
  if (exp - iat > MAX_JWT_TTL_SECONDS) {
    throw new NodeAuthError(
      'TOKEN_INVALID',
      `The node token lives ${exp - iat} s; at most ${MAX_JWT_TTL_SECONDS} s is accepted.`,
    );
  }
  const jti = String(claims.jti);
  if (!replay.use(jti, (exp + options.maxSkewSeconds) * 1000)) {
    throw new NodeAuthError(
      'TOKEN_REPLAYED',
      'This node token was already used. Each connection needs a new token.',
    );
  }
  return { nodeId, jti, expiresAt: exp * 1000 };
}
