import type { EventOutbox } from '../domain-events.js';
import { newId } from '../ids.js';
import type { Db } from './database.js';
import type { Run } from './engine.js';

export function sqliteEventOutbox(db: Db): (run: Run) => EventOutbox {
  const insert = db.prepare('INSERT INTO domain_events (id, type, at, data) VALUES (?, ?, ?, ?)');
  return (run) => ({
    append: (at, event) =>
      run(() => {
        const id = newId('evt');
        insert.run(id, event.type, at, JSON.stringify(event));
        return id;
      }),
  });
}
