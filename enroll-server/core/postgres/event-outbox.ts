import type { EventOutbox } from '../domain-events.js';
import { newId } from '../ids.js';
import type { Sql } from './engine.js';

export function postgresEventOutbox(sql: Sql): EventOutbox {
  return {
    append: async (at, event) => {
      const id = newId('evt');
      await sql.run('INSERT INTO domain_events (id, type, at, data) VALUES ($1, $2, $3, $4)', [
        id,
        event.type,
        at,
        JSON.stringify(event),
      ]);
      return id;
    },
  };
}
