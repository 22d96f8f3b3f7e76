/** `GET /v1/wireguard/peers`: the overlay hub's WireGuard peers (nodes that joined). */
import { Type } from 'typebox';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import { overlayAddress } from './join.js';
import type { NetworkRepository } from './network-repository.js';

export function networkRoutes(
  app: App,
  ctx: { repos: { network: NetworkRepository }; overlayCidr: string },
): void {
  app.get(
    '/v1/wireguard/peers',
    {
      schema: {
        operationId: 'listWireguardPeers',
        tags: ['network'],
        summary: "The overlay hub's WireGuard peers (nodes that joined)",
        response: {
          200: Type.Object({
            peers: Type.Array(
              Type.Object({
                nodeId: Type.String(),
                status: Type.String(),
                publicKey: Type.String(),
                allowedIps: Type.String(),
              }),
            ),
          }),
          ...errors(401, 403),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async () => ({
      peers: (await ctx.repos.network.peers())
        .filter((p) => p.wireguardPublicKey && (p.status === 'active' || p.status === 'approved'))
        .map((p) => ({
          nodeId: p.nodeId,
          status: p.status,
          publicKey: p.wireguardPublicKey ?? '',
          allowedIps: `${overlayAddress(ctx.overlayCidr, p.overlayIndex)}/32`,
        })),
    }),
  );
}
