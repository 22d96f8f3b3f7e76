/** `GET /v1/admin/backup`: a consistent snapshot of the live database (SQLite online backup), streamed. */
import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { newId } from './ids.js';
import { actorOf, principalOf } from './auth.js';
import type { App, AppContext } from './http.js';

export function backupRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/v1/admin/backup',
    {
      // The answer is the SQLite file itself (a stream), so it has no JSON response schema.
      schema: { tags: ['admin'], summary: 'Download a consistent backup of the database (SQLite file)' },
      config: { auth: ['admin'] },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const dir = join(ctx.config.dataDir, 'backups');
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, `${newId('bak')}.db`);
      // Flush buffered presence first so that the copy holds everything acknowledged so far.
      ctx.hub.flushPresence();
      await ctx.repos.backup(file);
      // The size goes to the audit log only: a Content-Length on a streamed file kept keep-alive
      // connections busy after the download, so the answer is chunked.
      const { size } = await stat(file);
      ctx.repos.audit.record(ctx.now(), actorOf(principal), 'backup.created', undefined, { bytes: size });
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
