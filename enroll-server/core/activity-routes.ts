/** `GET /v1/audit`: the activity log, newest first (the path keeps its name; the answer is unchanged). */
import { Type } from 'typebox';
import type { ActivityEntry, ActivityLog } from './activity-log.js';
import type { App } from './http.js';
import { IsoTime, errors, iso } from './schemas.js';

export const ActivityEntrySchema = Type.Object({
  id: Type.Integer(),
  at: IsoTime,
  actor: Type.Object({
    type: Type.String(),
    id: Type.Union([Type.String(), Type.Null()]),
    role: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  }),
  action: Type.String(),
  targetType: Type.Union([Type.String(), Type.Null()]),
  targetId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Unknown(),
});

const activityView = (e: ActivityEntry) => ({ ...e, at: iso(e.at) });

export function activityRoutes(app: App, deps: { activity: ActivityLog }): void {
  app.get(
    '/v1/audit',
    {
      schema: {
        operationId: 'listActivity',
        tags: ['audit'],
        summary: 'Who did what, newest first',
        querystring: Type.Object({
          targetType: Type.Optional(Type.String({ maxLength: 32 })),
          targetId: Type.Optional(Type.String({ maxLength: 64 })),
          action: Type.Optional(Type.String({ maxLength: 64 })),
          before: Type.Optional(
            Type.Integer({ minimum: 1, description: 'entries with an id below this (paging)' }),
          ),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
        }),
        response: { 200: Type.Object({ entries: Type.Array(ActivityEntrySchema) }), ...errors(401, 403) },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request) => {
      const { limit = 100, ...rest } = request.query;
      return { entries: (await deps.activity.list({ ...rest, limit })).map(activityView) };
    },
  );
}
