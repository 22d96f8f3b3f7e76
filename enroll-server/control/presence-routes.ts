/** A node's presence timeline (the dashboard's 7-day strip): the control-channel sessions in a window. */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { IdParams, IsoTime, errors, iso } from '../core/schemas.js';
import type { NodeService } from '../nodes/node-service.js';
import type { PresenceSource } from '../nodes/presence-view.js';
import type { PresenceRepository } from './presence-repository.js';

export interface PresenceRouteDeps {
  nodes: NodeService;
  presence: PresenceSource;
  repos: { presence: PresenceRepository };
  now: () => number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

export function presenceRoutes(app: App, ctx: PresenceRouteDeps): void {
  app.get(
    '/v1/nodes/:id/presence',
    {
      schema: {
        operationId: 'getNodePresence',
        tags: ['nodes'],
        summary: "A node's online intervals over the last days (owners see their own)",
        params: IdParams,
        querystring: Type.Object({
          days: Type.Optional(Type.Integer({ minimum: 1, maximum: 90, default: 7 })),
        }),
        response: {
          200: Type.Object({
            from: IsoTime,
            to: IsoTime,
            intervals: Type.Array(Type.Object({ start: IsoTime, end: IsoTime, open: Type.Boolean() })),
          }),
          ...errors(401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops', 'reviewer', 'owner'] },
    },
    async (request) => {
      const node = await ctx.nodes.get(principalOf(request), request.params.id);
      const to = ctx.now();
      const from = to - (request.query.days ?? 7) * DAY_MS;
      const online = ctx.presence.isOnline(node.id);
      const intervals = (await ctx.repos.presence.forNode(node.id, from)).map((i) => {
        const open = i.endedAt === null && online;
        return {
          start: iso(Math.max(from, i.startedAt)),
          end: iso(open ? to : (i.endedAt ?? i.lastSeenAt)),
          open,
        };
      });
      return { from: iso(from), to: iso(to), intervals };
    },
  );
}
