/**
 * The statement's own guard against overlapping usage, on the real SQLite repositories: reports
 * stored before migration 007 may overlap (written here straight into the table, as an old server
 * would have). The SQL shortcut (sums per up stretch, overlapped reports found by a window query)
 * must pay exactly what the pure rule pays reading every report one by one (fast-check).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import { openDatabase, type Db } from '../../enroll-server/core/sqlite/database.js';
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
import { createSqliteRepositories } from '../../enroll-server/sqlite-store.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';

const START = Date.parse('2026-11-09T00:00:00Z');
const END = START + 6 * 3_600_000;
const soon = fc.integer({ min: START - 2 * 3_600_000, max: END + 600_000 });

let dir: string;
let db: Db;
let repos: Repositories;
let nodes = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'homenode-usage-sql-'));
  db = openDatabase(join(dir, 'homenode.db'));
  repos = createSqliteRepositories(db);
  await repos.owners.create({ id: 'own_sql', email: 'sql@example.com', name: 'SQL', createdAt: 0 });
});
afterAll(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A node with these reports in its table, bypassing the repository's overlap rule. */
async function nodeWith(reports: readonly (UsageReportDetail & { receivedAt: number })[]): Promise<string> {
  nodes += 1;
  const nodeId = `node_sql${nodes}`;
  const hardware = rtx4090Hardware();
  const profile = deriveProviderProfile(hardware);
  await repos.nodes.create(
    nodeId,
    'own_sql',
    `fp${nodes}`,
    {
      enrolledWithKey: null,
      status: 'active',
      statusReason: null,
      publicKey: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) },
      publicKeyThumbprint: `tp${nodes}`,
      hardware,
      preflight: [],
      attributes: profile.attributes,
      labels: profile.labels,
      agentVersion: 'test',
    },
    0,
  );
  const insert = db.prepare(
    `INSERT INTO usage_reports (node_id, seq, from_at, to_at, workloads, jws, received_at, gpu_seconds)
     VALUES (?, ?, ?, ?, ?, 'legacy', ?, ?)`,
  );
  for (const r of reports) {
    const workloads = r.workloads.map((w, i) => ({ leaseId: `lease-${i}`, ...w }));
    const gpuSeconds = r.workloads.reduce((s, w) => s + w.gpus * w.seconds, 0);
    insert.run(nodeId, r.seq, r.from, r.to, JSON.stringify(workloads), r.receivedAt, gpuSeconds);
  }
  return nodeId;
}

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
    rs.map((r, seq) => ({
      seq: seq + 1,
      from: r.from,
      to: r.from + r.len,
      workloads: [{ gpus: r.gpus, seconds: Math.floor((Math.floor(r.len / 1000) * r.share) / 100) }],
      // Some arrive after the statement's "as of" time and must not count.
      receivedAt: r.late ? END + 3_600_000 : r.from + r.len,
    })),
  );
const presenceArb = fc.array(
  fc.tuple(soon, fc.integer({ min: 0, max: 3 * 3_600_000 })).map(([s, d]) => ({ start: s, end: s + d })),
  { maxLength: 5 },
);

describe('statement usage on SQLite, with overlapping reports stored before the rule', () => {
  it('the SQL shortcut pays exactly what reading every report one by one pays', async () => {
    const asOf = END + 60_000;
    await fc.assert(
      fc.asyncProperty(
        reportsArb,
        presenceArb,
        fc.integer({ min: START, max: END }),
        async (reports, presence, change) => {
          const nodeId = await nodeWith(reports);
          const up = minutesTouched(presence, START, END);
          // Two GPUs, then one from a minute-aligned hardware change.
          const at = change - (change % 60_000);
          const segments: ClassSegment[] = [
            { from: START, to: at, cls: 'nvidia/rtx4090/24Gi', gpus: 2 },
            { from: at, to: END, cls: 'nvidia/rtx4090/24Gi#1', gpus: 1 },
          ].filter((s) => s.to > s.from);
          const queries = usageQueries(up, segments, START, END);
          const fromSql = usageFromAnswers(queries, await repos.payouts.usage(nodeId, asOf, queries));
          const inMemory = usageFromReports(reports.filter((r) => r.receivedAt <= asOf));
          expect(workloadSecondsByClass(fromSql, up, segments, START, END)).toEqual(
            workloadSecondsByClass(inMemory, up, segments, START, END),
          );
        },
      ),
      { numRuns: 150 },
    );
  });
});
