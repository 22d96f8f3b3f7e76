/** Operator CLI: the server itself: backup, restore (local) and the hardware policy. */
import { writeFileSync } from 'node:fs';
import { type Command, type Row, str } from './command.js';
import { record } from './format.js';
import { type MigrateResult, migrateDatabase } from './migrate-db.js';
import { restoreBackup } from './restore.js';

export const SERVER_COMMANDS: Command[] = [
  {
    name: 'backup',
    summary: "Download a consistent backup of the server's database (admin) to FILE",
    args: ['FILE'],
    run: async (ctx) => {
      const bytes = await ctx.api.download('/v1/admin/backup');
      const file = ctx.args[0] ?? '';
      writeFileSync(file, bytes, { mode: 0o600 });
      return { file, bytes: bytes.length };
    },
    render: (r: Row) =>
      `Wrote a ${String(r.bytes)}-byte backup to ${String(r.file)}. Restore it with: npm run admin -- restore ${String(r.file)} --db PATH`,
  },
  {
    name: 'restore',
    summary: "Put a backup in place of a STOPPED server's database (local; needs no server or token)",
    args: ['FILE'],
    local: true,
    options: {
      db: { type: 'string', description: 'the database file to replace (HOMENODE_DB)', required: true },
      force: { type: 'boolean', description: 'replace an existing database' },
    },
    run: (ctx) =>
      Promise.resolve(
        restoreBackup(ctx.args[0] ?? '', str(ctx.options.db) ?? '', ctx.options.force === true),
      ),
    render: (r: Row) =>
      `Restored ${String(r.file)} to ${String(r.db)} (schema ${String(r.schemaVersion)}, ${String(r.owners)} owners, ${String(r.nodes)} nodes). Start the server.`,
  },
  {
    name: 'migrate-db',
    summary:
      "Copy a STOPPED server's SQLite database into an empty PostgreSQL database and check the copy (local; needs no server or token)",
    local: true,
    options: {
      from: { type: 'string', description: 'the SQLite database file (HOMENODE_DB)', required: true },
      to: {
        type: 'string',
        description: 'the PostgreSQL URL (postgres://user:password@host:5432/db)',
        required: true,
      },
    },
    run: (ctx) => migrateDatabase(str(ctx.options.from) ?? '', str(ctx.options.to) ?? ''),
    render: (r: MigrateResult) =>
      [
        `Copied ${r.from} to ${r.to} and checked it:`,
        ...r.tables.map(
          (t) =>
            `  ${t.table.padEnd(24)} ${String(t.rows).padStart(10)} rows  sha256 ${t.sha256.slice(0, 16)}…`,
        ),
        r.lockedPeriods.length
          ? `  ${r.lockedPeriods.length} locked payout period(s) recomputed on PostgreSQL: every hash matches.`
          : '  No locked payout periods to recompute.',
        `Start every server with HOMENODE_DATABASE_URL=${r.to} (the SQLite file is no longer used).`,
      ].join('\n'),
  },
  {
    name: 'policy',
    summary: 'Show the hardware policy the server enforces',
    run: ({ api }) => api.request('GET', '/v1/policy'),
    render: (r: { policy: Row; serverTime: string }) => `${record(r.policy)}\nserverTime  ${r.serverTime}`,
  },
];
