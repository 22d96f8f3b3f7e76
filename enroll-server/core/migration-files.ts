/**
 * Numbered schema migrations, one folder per engine (`core/sqlite/migrations/`,
 * `core/postgres/migrations/`): files named `NNN_name.sql`, applied in order of NNN.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export function loadMigrations(dir: string): Migration[] {
  return readdirSync(dir)
    .flatMap((file) => {
      const match = /^(\d{3})_([\w-]+)\.sql$/.exec(file);
      return match
        ? [{ version: Number(match[1]), name: match[2] ?? file, sql: readFileSync(join(dir, file), 'utf8') }]
        : [];
    })
    .sort((a, b) => a.version - b.version);
}
