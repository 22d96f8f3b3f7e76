import type { Db } from '../../core/sqlite/database.js';
import type { Run } from '../../core/sqlite/engine.js';
import type { PreferenceRepository, StoredPreferences } from '../preference-repository.js';

interface Row {
  owner_id: string;
  choices: string;
  offline_minutes: number;
}

const toStored = (r: Row): StoredPreferences => ({
  choices: JSON.parse(r.choices) as Partial<Record<string, boolean>>,
  offlineMinutes: r.offline_minutes,
});

export function sqlitePreferenceRepository(db: Db): (run: Run) => PreferenceRepository {
  const get = db.prepare<[string], Row>('SELECT * FROM notification_preferences WHERE owner_id = ?');
  const getMany = db.prepare<[string], Row>(
    'SELECT * FROM notification_preferences WHERE owner_id IN (SELECT value FROM json_each(?))',
  );
  const put = db.prepare(
    `INSERT INTO notification_preferences (owner_id, choices, offline_minutes, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (owner_id) DO UPDATE SET choices = excluded.choices, offline_minutes = excluded.offline_minutes,
       updated_at = excluded.updated_at`,
  );
  const suppressed = db.prepare<[string, string], { n: number }>(
    'SELECT COUNT(*) AS n FROM mail_suppressions WHERE address = ? AND category = ?',
  );
  const suppress = db.prepare(
    'INSERT OR IGNORE INTO mail_suppressions (address, category, created_at) VALUES (?, ?, ?)',
  );
  return (run) => ({
    get: (ownerId) =>
      run(() => {
        const row = get.get(ownerId);
        return row && toStored(row);
      }),
    getMany: (ownerIds) =>
      run(() => new Map(getMany.all(JSON.stringify(ownerIds)).map((r) => [r.owner_id, toStored(r)]))),
    put: (ownerId, preferences, at) =>
      run(() => {
        put.run(ownerId, JSON.stringify(preferences.choices), preferences.offlineMinutes, at);
      }),
    isSuppressed: (address, category) => run(() => (suppressed.get(address, category)?.n ?? 0) > 0),
    suppress: (address, category, at) =>
      run(() => {
        suppress.run(address, category, at);
      }),
  });
}
