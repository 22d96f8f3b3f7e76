/**
 * `GET /v1/wireguard/peers`: the overlay hub's WireGuard peers (nodes that joined), as JSON or,
 * with `?format=wg`, as the `[Peer]` sections `wg syncconf` reads (docs/node-software.md).
 */
import { Type } from 'typebox';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import { hubPeers, renderHubPeers } from './hub-peers.js';
import type { NetworkRepository } from './network-repository.js';

const PeersSchema = Type.Object({
  peers: Type.Array(
    Type.Object({
      nodeId: Type.String(),
      status: Type.String(),
      publicKey: Type.String(),
      allowedIps: Type.String(),
    }),
  ),
});

export function networkRoutes(
  app: App,
  ctx: { repos: { network: NetworkRepository }; overlayCidr: string; now: () => number },
): void {
  app.get(
    '/v1/wireguard/peers',
    {
      schema: {
        operationId: 'listWireguardPeers',
        tags: ['network'],
        summary: "The overlay hub's WireGuard peers (nodes that joined); ?format=wg for wg syncconf",
        querystring: Type.Object({
          format: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('wg')], { default: 'json' })),
        }),
        response: {
          200: {
            description: 'The peers (JSON), or their [Peer] sections (text/plain, with ?format=wg)',
            content: {
              'application/json': { schema: PeersSchema },
              'text/plain': { schema: Type.String() },
            },
          },
          ...errors(400, 401, 403),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request, reply) => {
      const peers = hubPeers(await ctx.repos.network.peers(), ctx.overlayCidr);
      if (request.query.format === 'wg') {
        return reply
          .type('text/plain; charset=utf-8')
          .send(renderHubPeers(peers, new Date(ctx.now()).toISOString()));
      }
      return reply.type('application/json; charset=utf-8').send({ peers });
    },
  );
}
