/**
 * The disk fills up: writes answer 503 with Retry-After (reads keep working), usage reports are
 * not acked and come again, and once space returns everything is stored and nothing is corrupt.
 * A full disk is made real by capping the SQLite file's size (max_page_count), which makes SQLite
 * fail its writes with SQLITE_FULL exactly as a full file system does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import type { FleetAgent } from '../../scripts/sim/fleet-agent.js';
import { FAST_AGENTS, type TestServer, startTestServer } from '../helpers/server.js';
import { approvedFleet, until, window } from './fault-support.js';

describe('disk full', () => {
  let server: TestServer | undefined;
  let fleet: FleetAgent[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(fleet.map((a) => a.stop(false)));
    await server?.close();
    dirs.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  it('answers 503 on writes while full, loses nothing, and recovers when space returns', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'homenode-full-'));
    dirs.push(dir);
    const db = openDatabase(join(dir, 'full.db'));
    server = await startTestServer({
      db,
      dbPath: join(dir, 'full.db'),
      enrollRateLimit: { perAddress: 100_000 },
      control: FAST_AGENTS,
    });
    fleet = await approvedFleet(server.url, server.adminToken, 2, server.url, { storageRetryMs: 200 });
    fleet.forEach((a) => a.start());
    await until(() => fleet.every((a) => a.status === 'active'), 10_000, 'active fleet');

    // Fill the disk: the file may not grow by a single page more.
    db.pragma('wal_checkpoint(TRUNCATE)');
    const pages = Number(db.pragma('page_count', { simple: true }));
    db.pragma(`max_page_count = ${pages}`);
    const filler = (n: number) =>
      server!.api('POST', '/v1/owners', { body: { email: `filler${n}@example.com`, name: 'x'.repeat(200) } });
    let full: Awaited<ReturnType<typeof filler>> | undefined;
    for (let i = 0; i < 2000 && full?.status !== 503; i += 1) full = await filler(i);
    expect(full?.status).toBe(503);
    expect(full?.headers.get('retry-after')).toBe('30');
    expect(full?.body).toMatchObject({
      error: { code: 'UNAVAILABLE', message: expect.stringContaining('storage is full') },
    });
    expect((await server.api('GET', '/v1/nodes')).status).toBe(200);
    expect((await server.api('GET', '/healthz', { token: null })).status).toBe(200);

    // Reports made while full are refused (not acked) and kept by the agents. A few may still fit
    // into free space inside existing pages, so report until some are refused: a report counts as
    // refused once its answer had time to come (one just sent is unacked only because it is in flight).
    let made = 0;
    while (made < 200 && !fleet.every((a) => a.unackedCount > 0)) {
      const [from, to] = window(made);
      await Promise.all(fleet.map((a) => a.report(from, to, [{ leaseId: 'l', gpus: 1, seconds: 5 }])));
      made += 1;
      await new Promise((r) => setTimeout(r, 150));
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(fleet.every((a) => a.unackedCount > 0)).toBe(true);

    // A node that loses its connection while the storage is full gets back in (its token's jti
    // cannot be written: the replay guard's cache in this process still refuses a replay).
    const [dropped] = fleet;
    await dropped!.stop(false);
    dropped!.start();
    await until(() => dropped!.connected, 10_000, 'a node to reconnect while the storage is full');

    // Space returns.
    db.pragma('max_page_count = 1073741823');
    await until(
      () => fleet.every((a) => a.unackedCount === 0),
      10_000,
      'reports stored after space returned',
    );
    expect((await filler(999)).status).toBe(201);
    const { repos } = server.app.homenode.context;
    for (const agent of fleet) {
      expect((await repos.usage.forNode(agent.options.nodeId)).map((r) => r.seq)).toEqual(
        Array.from({ length: made }, (_, i) => i + 1),
      );
    }
    await server.app.homenode.context.hub.flushPresence();
    expect(db.pragma('integrity_check', { simple: true }) as string).toBe('ok');
    await server.close();
    server = undefined;
    db.close();
  });
});
