/**
 * Authenticating a node on an HTTP route with its own JWT (the control channel's upgrade, artifact
 * downloads): the token verified against the node's stored key for the route's audience (`aud`,
 * `exp` at most 5 minutes, a `jti` never used before, on any route), then a revoked or rejected
 * node refused with the reason ops gave. One function, so that every node route checks the same.
 */
import { NodeRejectedError, NodeRevokedError, UnauthenticatedError } from '../core/errors.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import { NodeAuthError, type ReplayCache, verifyNodeToken } from './node-token.js';

export interface NodeAuthDeps {
  nodes: NodeRepository;
  /** One guard for every node route, so that a token used on one is refused on another. */
  replay: ReplayCache;
  maxSkewSeconds: number;
  now: () => number;
}

/** The token of `Authorization: Bearer <token>`, if the header has that form. */
export const bearerToken = (header: string | undefined): string | undefined =>
  /^Bearer\s+(\S+)$/i.exec(header ?? '')?.[1];

/** A JWT has three base64url parts; an API token (`hn_…`) has none of its dots. */
export const looksLikeJwt = (token: string | undefined): token is string =>
  token !== undefined && /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);

/**
 * The node whose JWT this is, for `audience`. Throws `NodeAuthError` (bad, expired or replayed
 * token; unknown node), `NodeRevokedError` or `NodeRejectedError`.
 */
export async function authenticateNode(
  header: string | undefined,
  audience: string,
  deps: NodeAuthDeps,
): Promise<NodeRecord> {
  let node: NodeRecord | undefined;
  await verifyNodeToken(
    bearerToken(header),
    async (id) => {
      node = await deps.nodes.get(id);
      return node?.publicKey;
    },
    deps.replay,
    { now: deps.now, maxSkewSeconds: deps.maxSkewSeconds, audience },
  );
  if (!node) throw new NodeAuthError('NODE_UNKNOWN', 'This node is not known to the server.');
  if (node.status === 'revoked') {
    throw new NodeRevokedError(
      `This machine was removed by the operations team: ${node.statusReason ?? 'no reason given'}.`,
    );
  }
  if (node.status === 'rejected') {
    throw new NodeRejectedError(`This machine was not approved: ${node.statusReason ?? 'no reason given'}.`);
  }
  return node;
}

/** A `NodeAuthError` as the 401 answer, with the reason (`TOKEN_EXPIRED`, `CLOCK_SKEW`, …) in details. */
export function asHttpError(error: unknown): unknown {
  return error instanceof NodeAuthError
    ? new UnauthenticatedError(error.message, { details: { reason: error.code } })
    : error;
}
