/**
 * What a statement reads of a node's usage, on both engines, against the pure rule reading every
 * report one by one (fast-check): the SQL shortcut (sums per up stretch, reports crossing a cut,
 * overlapped reports by a window query) must pay exactly the same.
 *
 * Reports stored before the no-overlap rule (SQLite's migration 007) may overlap: they are written
 * here straight into the table, as an old server would have, and such a node is listed in
 * usage_overlap_nodes, as the migration that made the list (SQLite 016, PostgreSQL 010) does. For
 * any other node the reads assume what the rule guarantees: at most one report crosses a cut.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import { minutesTouched } from '../../enroll-server/payouts/minute-ranges.js';
import {
  type ClassSegment,
  type UsageReportDetail,
  usageFromAnswers,
  usageFromReports,
  usageQueries,
  workloadSecondsByClass,
} from '../../enroll-server/payouts/workload.js';
import type { Repositories } from '../../enroll-server/repositories.js';
import { createSqliteStore } from '../../enroll-server/sqlite-store.js';
import { ENGINES, type EngineName, openEngine } from '../helpers/engines.js';
import { seedNode } from './fixtures.js';

const START = Date.parse('2026-11-09T00:00:00Z');
const END = START + 6 * 3_600_000;
const soon = fc.integer({ min: START - 2 * 3_600_000, max: END + 600_000 });
const MIGRATION = {
  sqlite: 'enroll-server/core/sqlite/migrations/016_usage_overlap_nodes.sql',
  postgres: 'enroll-server/core/postgres/migrations/010_usage_overlap_nodes.sql',
};

type StoredReport = UsageReportDetail & { receivedAt: number };

const reportsArb = fc
  .array(
    fc.record({
      from: soon,
      len: fc.integer({ min: 1000, max: 3_600_000 }),
      gpus: fc.integer({ min: 0, max: 3 }),
      share: fc.integer({ min: 0, max: 100 }),
      late: fc.boolean(),
    }),
    { maxLength: 25 },
  )
  .map((rs) =>
    rs.map((r, seq): StoredReport => ({
      seq: seq + 1,
      from: r.from,
      to: r.from + r.len,
      workloads: [{ gpus: r.gpus, seconds: Math.floor((Math.floor(r.len / 1000) * r.share) / 100) }],
      // Some arrive after the statement's "as of" time and must not count.
      receivedAt: r.late ? END + 3_600_000 : r.from + r.len,
    })),
  );
/** As the rule stores them: each window starts where the one before ended, or later. */
const ruleAbidingArb = reportsArb.map((rs) => {
  let at = START - 1_800_000;
  return rs.map((r) => {
    const from = at + (Math.abs(r.from - START) % 600_000);
    at = from + (r.to - r.from);
    return { ...r, from, to: at };
  });
});
const presenceArb = fc.array(
  fc.tuple(soon, fc.integer({ min: 0, max: 3 * 3_600_000 })).map(([s, d]) => ({ start: s, end: s + d })),
  { maxLength: 5 },
);

/** A fresh store, and raw SQL on its database (`?` placeholders on both engines). */
async function openRaw(engine: EngineName): Promise<{
  repos: Repositories;
  run(sql: string, params?: unknown[]): Promise<unknown[]>;
  close(): Promise<void>;
}> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'homenode-usage-sql-'));
    const db = openDatabase(join(dir, 'homenode.db'));
    const store = createSqliteStore(db, { closeDb: true });
    return {
      repos: store.repos,
      run: (sql, params = []) => {
        const statement = db.prepare(sql);
        return Promise.resolve(statement.reader ? statement.all(...params) : (statement.run(...params), []));
      },
      async close() {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const e = await openEngine(engine);
  const client = new pg.Client({ connectionString: e.url });
  await client.connect();
  return {
    repos: e.repos,
    run: async (sql, params = []) => {
      let n = 0;
      return (
        await client.query(
          sql.replace(/\?/g, () => `$${++n}`),
          params,
        )
      ).rows as unknown[];
    },
    async close() {
      await client.end();
      await e.close();
    },
  };
}

describe.each(ENGINES)('statement usage reads on %s', (engine) => {
  let db: Awaited<ReturnType<typeof openRaw>>;
  let nodes = 0;
  /** Lines that earned anything, so that a property that pays nothing cannot pass by it. */
  let paying = 0;
  beforeAll(async () => {
    db = await openRaw(engine);
  });
  afterAll(() => db.close());

  /** A node with these reports in its table, written as an old server would (no overlap rule). */
  async function nodeWith(reports: readonly StoredReport[], listed: boolean): Promise<string> {
    nodes += 1;
    const nodeId = await seedNode(db.repos, `usage${nodes}`);
    for (const r of reports) {
      const workloads = JSON.stringify(r.workloads.map((w, i) => ({ leaseId: `lease-${i}`, ...w })));
      const gpuSeconds = r.workloads.reduce((s, w) => s + w.gpus * w.seconds, 0);
      await db.run(
        `INSERT INTO usage_reports (node_id, seq, from_at, to_at, workloads, jws, received_at, gpu_seconds)
         VALUES (?, ?, ?, ?, ?, 'legacy', ?, ?)`,
        [nodeId, r.seq, r.from, r.to, workloads, r.receivedAt, gpuSeconds],
      );
    }
    if (listed) await db.run('INSERT INTO usage_overlap_nodes (node_id) VALUES (?)', [nodeId]);
    return nodeId;
  }

  /** Both reads (one node, and many at once) pay what the pure rule pays over every report. */
  async function payAlike(
    reports: readonly StoredReport[],
    presence: readonly { start: number; end: number }[],
    change: number,
    listed: boolean,
  ): Promise<void> {
    const nodeId = await nodeWith(reports, listed);
    const up = minutesTouched(presence, START, END);
    // Two GPUs, then one from a minute-aligned hardware change.
    const at = change - (change % 60_000);
    const segments: ClassSegment[] = [
      { from: START, to: at, cls: 'nvidia/rtx4090/24Gi', gpus: 2 },
      { from: at, to: END, cls: 'nvidia/rtx4090/24Gi#1', gpus: 1 },
    ].filter((s) => s.to > s.from);
    const asOf = END + 60_000;
    const queries = usageQueries(up, segments, START, END);
    const expected = workloadSecondsByClass(
      usageFromReports(reports.filter((r) => r.receivedAt <= asOf)),
      up,
      segments,
      START,
      END,
    );
    if (expected.size > 0) paying += 1;
    const one = await db.repos.payouts.usage(nodeId, asOf, queries);
    expect(workloadSecondsByClass(usageFromAnswers(queries, one), up, segments, START, END)).toEqual(
      expected,
    );
    const many = await db.repos.payouts.usageOf([{ nodeId, queries }], asOf);
    expect(many).toEqual([one]);
  }

  it('overlapping reports from before the rule (node listed): the shortcut pays what every report one by one pays', async () => {
    await fc.assert(
      fc.asyncProperty(reportsArb, presenceArb, fc.integer({ min: START, max: END }), (r, p, c) =>
        payAlike(r, p, c, true),
      ),
      { numRuns: engine === 'sqlite' ? 150 : 60 },
    );
  });

  it('reports as the rule stores them (node not listed): one report read per cut pays the same', async () => {
    paying = 0;
    await fc.assert(
      fc.asyncProperty(
        ruleAbidingArb,
        presenceArb.filter((p) => p.length > 0),
        fc.integer({ min: START, max: END }),
        (r, p, c) => payAlike(r, p, c, false),
      ),
      { numRuns: engine === 'sqlite' ? 150 : 60 },
    );
    expect(paying).toBeGreaterThan(engine === 'sqlite' ? 30 : 10);
  });

  it("the list's migration lists exactly the nodes whose stored reports overlap, received late or not", async () => {
    const hour = 3_600_000;
    const report = (seq: number, from: number, to: number, receivedAt = to): StoredReport => ({
      seq,
      from,
      to,
      workloads: [{ gpus: 1, seconds: 60 }],
      receivedAt,
    });
    const clean = await nodeWith(
      [report(1, START, START + hour), report(2, START + hour, START + 2 * hour)],
      false,
    );
    const overlapping = await nodeWith(
      [report(2, START + 30 * 60_000, START + hour), report(1, START, START + hour)],
      false,
    );
    const late = await nodeWith(
      [report(1, START, START + hour), report(2, START + hour - 1, START + 2 * hour, END + 10 * hour)],
      false,
    );
    const none = await nodeWith([], false);
    // The migration's own SQL, run again on a database holding these reports.
    await db.run('DROP TABLE usage_overlap_nodes');
    const sql = readFileSync(MIGRATION[engine], 'utf8').replace(/^--.*$/gm, '');
    for (const statement of sql
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean))
      await db.run(statement);
    const listed = (await db.run('SELECT node_id FROM usage_overlap_nodes ORDER BY node_id')) as {
      node_id: string;
    }[];
    expect(
      listed.map((r) => r.node_id).filter((id) => [clean, overlapping, late, none].includes(id)),
    ).toEqual([late, overlapping].sort());
  });
});
