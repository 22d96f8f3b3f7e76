/**
 * `GET|PUT /v1/me/notifications`: the signed-in owner's choices (one switch per kind of notice) and
 * offline threshold. A PUT may send only what changes.
 */
import { Type } from 'typebox';
import { principalOf } from '../core/auth.js';
import type { App } from '../core/http.js';
import { errors } from '../core/schemas.js';
import type { PreferenceRepository } from './preference-repository.js';
import {
  KIND_LABELS,
  NOTIFICATION_KINDS,
  type NotificationKind,
  type NotificationPreferences,
  OFFLINE_MINUTES,
  withDefaults,
} from './preferences.js';

const choice = (kind: NotificationKind) => Type.Boolean({ description: KIND_LABELS[kind] });
const Choices = Type.Object(
  {
    nodeApproved: choice('nodeApproved'),
    nodeRejected: choice('nodeRejected'),
    nodeRevoked: choice('nodeRevoked'),
    nodeOffline: choice('nodeOffline'),
    auditFailed: choice('auditFailed'),
    statementLocked: choice('statementLocked'),
  },
  { additionalProperties: false },
);
const Minutes = Type.Integer({
  minimum: OFFLINE_MINUTES.min,
  maximum: OFFLINE_MINUTES.max,
  description: 'how long a machine may be offline before the owner is told',
});
const PreferencesSchema = Type.Object({ choices: Choices, offlineMinutes: Minutes });
const PreferencesBody = Type.Object(
  {
    choices: Type.Optional(
      Type.Object(
        {
          nodeApproved: Type.Optional(choice('nodeApproved')),
          nodeRejected: Type.Optional(choice('nodeRejected')),
          nodeRevoked: Type.Optional(choice('nodeRevoked')),
          nodeOffline: Type.Optional(choice('nodeOffline')),
          auditFailed: Type.Optional(choice('auditFailed')),
          statementLocked: Type.Optional(choice('statementLocked')),
        },
        { additionalProperties: false },
      ),
    ),
    offlineMinutes: Type.Optional(Minutes),
  },
  { additionalProperties: false },
);

export function preferenceRoutes(
  app: App,
  deps: { preferences: PreferenceRepository; now: () => number },
): void {
  const read = async (ownerId: string): Promise<NotificationPreferences> =>
    withDefaults(await deps.preferences.get(ownerId));

  app.get(
    '/v1/me/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: "The signed-in owner's notification choices and offline threshold",
        response: { 200: PreferencesSchema, ...errors(401, 403) },
      },
      config: { auth: ['owner'] },
    },
    async (request) => read(principalOf(request).ownerId ?? ''),
  );

  app.put(
    '/v1/me/notifications',
    {
      schema: {
        tags: ['notifications'],
        summary: 'Change notification choices or the offline threshold (send only what changes)',
        body: PreferencesBody,
        response: { 200: PreferencesSchema, ...errors(400, 401, 403) },
      },
      config: { auth: ['owner'] },
    },
    async (request) => {
      const ownerId = principalOf(request).ownerId ?? '';
      const current = await read(ownerId);
      const next: NotificationPreferences = {
        choices: { ...current.choices },
        offlineMinutes: request.body.offlineMinutes ?? current.offlineMinutes,
      };
      for (const kind of NOTIFICATION_KINDS) {
        const value = request.body.choices?.[kind];
        if (value !== undefined) next.choices[kind] = value;
      }
      await deps.preferences.put(ownerId, next, deps.now());
      return next;
    },
  );
}
