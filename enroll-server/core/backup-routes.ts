/** `GET /v1/admin/backup`: a consistent snapshot of the live database (SQLite online backup), streamed. */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ActivityLog } from './activity-log.js';
import { actorOf, principalOf } from './auth.js';
import type { App } from './http.js';
import { newId } from './ids.js';
import { fileAnswer } from './schemas.js';

export interface BackupRouteDeps {
  /** Where backups are written before they are streamed (then removed). */
  dataDir: string;
  activity: ActivityLog;
  /** A consistent copy of the live database, written to `destination`. */
  backup: (destination: string) => Promise<void>;
  /** Writes buffered state (presence) first, so that the copy holds everything acknowledged. */
  flush: () => Promise<void>;
  now: () => number;
}

export function backupRoutes(app: App, ctx: BackupRouteDeps): void {
  app.get(
    '/v1/admin/backup',
    {
      // The answer is the SQLite file itself (a stream).
      schema: {
        operationId: 'downloadBackup',
        tags: ['admin'],
        summary: 'Download a consistent backup of the database (SQLite file)',
        response: {
          200: fileAnswer(
            'application/vnd.sqlite3',
            'The database file; restore it with `npm run admin -- restore FILE --db PATH`',
            'binary',
          ),
        },
      },
      config: { auth: ['admin'] },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const dir = join(ctx.dataDir, 'backups');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${newId('bak')}.db`);
      // Created 0600 before SQLite writes the copy into it (it keeps the mode).
      await writeFile(file, '', { mode: 0o600 });
      // Flush buffered presence first so that the copy holds everything acknowledged so far.
      await ctx.flush();
      await ctx.backup(file);
      // The size goes to the audit log only: a Content-Length on a streamed file kept keep-alive
      // connections busy after the download, so the answer is chunked.
      const { size } = await stat(file);
      await ctx.activity.record(ctx.now(), actorOf(principal), 'backup.created', undefined, { bytes: size });
      const stream = createReadStream(file);
      stream.on(
        'close',
        () => void Promise.all(['', '-wal', '-shm'].map((suffix) => rm(file + suffix, { force: true }))),
      );
      return reply
        .type('application/vnd.sqlite3')
        .header(
          'content-disposition',
          `attachment; filename="homenode-${new Date(ctx.now()).toISOString().replace(/[:.]/g, '-')}.db"`,
        )
        .send(stream);
    },
  );
}
