/**
 * Verifies a node's connection JWT (DESIGN.md "Node identity"): EdDSA, signed by the node's own
 * key, `aud` homenode-control (or the audience of another node route, such as artifact downloads),
 * `sub` the node id, `exp` at most 5 minutes after `iat`, and a `jti`
 * never seen before. Failures say what is wrong, including a clock that is off.
 */
import { type JWTPayload, decodeJwt, errors as joseErrors, importJWK, jwtVerify } from 'jose';
import { CONTROL_AUDIENCE, MAX_JWT_TTL_SECONDS } from '../../protocol/control.js';
import type { PublicJwk } from '../../protocol/api.js';
import { isStorageFull } from '../core/error-handler.js';
import type { ReplayRepository } from './replay-repository.js';

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

/** `jti`s are random ids (the agent sends a UUID); anything else is refused before it is stored. */
const JTI_PATTERN = /^[A-Za-z0-9._~:-]{8,128}$/;
const PRUNE_EVERY_MS = 60_000;

/**
 * Remembers used `jti`s until their token expires, so that a captured token cannot be replayed:
 * in the database (behind `ReplayRepository`, so a restart or another replica does not forget),
 * with an in-memory cache in front that refuses a replay seen here without a database call.
 */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private sweepAt = 0;

  constructor(
    private readonly repo: ReplayRepository,
    private readonly now: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** False when the node's jti was already used. */
  async use(nodeId: string, jti: string, expiresAtMs: number): Promise<boolean> {
    const t = this.now();
    if (t >= this.sweepAt) {
      for (const [k, exp] of this.seen) if (exp <= t) this.seen.delete(k);
      this.sweepAt = t + PRUNE_EVERY_MS;
      this.repo.prune(t).catch(this.onError);
    }
    const key = `${nodeId} ${jti}`;
    const cached = this.seen.get(key);
    if (cached !== undefined && cached > t) return false;
    // Remembered before the write, so that two copies racing here cannot both pass.
    this.seen.set(key, expiresAtMs);
    try {
      return await this.repo.use(nodeId, jti, expiresAtMs);
    } catch (error) {
      // Storage full: nodes keep connecting; the cache above still refuses a replay to this process.
      if (!isStorageFull(error)) throw error;
      this.onError(error);
      return true;
    }
  }

  get size(): number {
    return this.seen.size;
  }
}

/** What token checks need of a replay guard: `ReplayGuard`, shared by every node route. */
export type ReplayCache = Pick<ReplayGuard, 'use'>;

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
  if (!JTI_PATTERN.test(jti)) {
    throw new NodeAuthError(
      'TOKEN_INVALID',
      "The node token's jti must be a random id of 8 to 128 characters.",
    );
  }
  if (!(await replay.use(nodeId, jti, (exp + options.maxSkewSeconds) * 1000))) {
    throw new NodeAuthError(
      'TOKEN_REPLAYED',
      'This node token was already used. Each connection needs a new token.',
    );
  }
  return { nodeId, jti, expiresAt: exp * 1000 };
}
