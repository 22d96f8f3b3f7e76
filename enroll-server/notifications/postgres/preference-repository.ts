import type { Sql } from '../../core/postgres/engine.js';
import type { PreferenceRepository, StoredPreferences } from '../preference-repository.js';

type Row = { owner_id: string; choices: string; offline_minutes: number };

const toStored = (r: Row): StoredPreferences => ({
  choices: JSON.parse(r.choices) as Partial<Record<string, boolean>>,
  offlineMinutes: r.offline_minutes,
});

// Addresses compare case-insensitively in ASCII (lower() in "C"), as SQLite's NOCASE column does.
export function postgresPreferenceRepository(sql: Sql): PreferenceRepository {
  return {
    get: async (ownerId) => {
      const row = await sql.row<Row>(
        'SELECT owner_id, choices, offline_minutes FROM notification_preferences WHERE owner_id = $1',
        [ownerId],
      );
      return row && toStored(row);
    },
    getMany: async (ownerIds) =>
      new Map(
        (
          await sql.rows<Row>(
            'SELECT owner_id, choices, offline_minutes FROM notification_preferences WHERE owner_id = ANY($1::text[])',
            [[...ownerIds]],
          )
        ).map((r) => [r.owner_id, toStored(r)]),
      ),
    put: async (ownerId, preferences, at) => {
      await sql.run(
        `INSERT INTO notification_preferences (owner_id, choices, offline_minutes, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (owner_id) DO UPDATE SET choices = excluded.choices, offline_minutes = excluded.offline_minutes,
           updated_at = excluded.updated_at`,
        [ownerId, JSON.stringify(preferences.choices), preferences.offlineMinutes, at],
      );
    },
    isSuppressed: async (address, category) =>
      ((
        await sql.row<{ n: number }>(
          'SELECT COUNT(*) AS n FROM mail_suppressions WHERE lower(address) = lower($1) AND category = $2',
          [address, category],
        )
      )?.n ?? 0) > 0,
    suppress: async (address, category, at) => {
      await sql.run(
        'INSERT INTO mail_suppressions (address, category, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [address, category, at],
      );
    },
  };
}
