/**
 * `npm run bench -- payouts [--nodes N] [--engine sqlite|postgres] [--json]`: a week for N nodes
 * with realistic churn (about 20 disconnects per node per week; a quarter of the nodes running GPU
 * workloads reported every 5 minutes) is written to a fresh database through the repositories;
 * then the real server process computes the period and streams its CSV, timed over HTTP, with its
 * peak memory. With `--engine postgres` the week is written to SQLite as above, copied into a
 * throw-away PostgreSQL 15 (durable settings, on core 1; the server is on core 0, as a database on
 * its own machine would be) with `migrate-db` (timed too),
 * and the server runs on PostgreSQL.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import { openDatabase } from '../../enroll-server/core/sqlite/database.js';
import type { PresenceWrite } from '../../enroll-server/control/presence-repository.js';
import { createSqliteRepositories } from '../../enroll-server/sqlite-store.js';
import { createDatabase, startPostgres } from '../postgres-server.js';
import { migrateDatabase } from '../admin/migrate-db.js';
import { simHardware } from './fleet.js';
import { startServerProcess } from './server-process.js';
import { round } from './stats.js';

const MINUTE = 60_000;
const WEEK_START = Date.parse('2026-11-09T00:00:00Z');
const WEEK_END = WEEK_START + 7 * 24 * 60 * MINUTE;

/** A small deterministic PRNG so that every run builds the same fleet. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return s / 2 ** 32;
  };
}

export async function buildFleetWeek(
  dbPath: string,
  nodes: number,
  log: (l: string) => void,
): Promise<{ intervals: number; reports: number }> {
  const db = openDatabase(dbPath);
  const repos = createSqliteRepositories(db);
  const random = prng(42);
  const at = WEEK_START - 30 * 24 * 60 * MINUTE;
  let intervals = 0;
  let reports = 0;
  await repos.transaction(async (tx) => {
    await tx.owners.create({ id: 'own_bench', email: 'bench@example.com', name: 'Bench', createdAt: at });
    await tx.payouts.addRateCard({
      effectiveFrom: at,
      rates: {
        'nvidia/rtx4090/24Gi': { availabilityUusdPerGpuHour: '200000', workloadUusdPerGpuHour: '500000' },
        'nvidia/rtx3090/24Gi': { availabilityUusdPerGpuHour: '150000', workloadUusdPerGpuHour: '400000' },
        'nvidia/rtx4070ti/12Gi': { availabilityUusdPerGpuHour: '90000', workloadUusdPerGpuHour: '250000' },
        'nvidia/a100/80Gi': { availabilityUusdPerGpuHour: '700000', workloadUusdPerGpuHour: '1500000' },
      },
      note: 'benchmark card (example rates)',
      createdAt: at,
      createdBy: null,
    });
  });
  for (let batch = 0; batch < nodes; batch += 500) {
    await repos.transaction(async (tx) => {
      for (let i = batch; i < Math.min(nodes, batch + 500); i += 1) {
        const nodeId = `node_bench${String(i).padStart(6, '0')}`;
        const hardware = simHardware(i);
        const profile = deriveProviderProfile(hardware);
        await tx.nodes.create(
          nodeId,
          'own_bench',
          `fp${i}`,
          {
            enrolledWithKey: null,
            status: 'active',
            statusReason: null,
            publicKey: { kty: 'OKP', crv: 'Ed25519', x: 'A'.repeat(43) },
            publicKeyThumbprint: `tp${i}`,
            hardware,
            preflight: [],
            attributes: profile.attributes,
            labels: profile.labels,
            agentVersion: 'bench',
          },
          at,
        );
        await tx.nodes.transition(nodeId, 'active', 'active', null, 'bench', at);
        // ~20 disconnects spread over the week, each 1–30 minutes (a few nodes have long outages).
        const cuts = Array.from(
          { length: 20 },
          () => WEEK_START + Math.floor(random() * 7 * 24 * 60) * MINUTE,
        ).sort((a, b) => a - b);
        const rows: PresenceWrite[] = [];
        let start = WEEK_START - 10 * MINUTE;
        for (const [k, cut] of cuts.entries()) {
          if (cut <= start) continue;
          const down = (i % 50 === 0 ? 600 : 1 + Math.floor(random() * 30)) * MINUTE;
          rows.push({
            id: `pi_${i}_${k}`,
            nodeId,
            startedAt: start,
            lastSeenAt: cut,
            endedAt: cut,
            endReason: 'disconnected',
            bootId: null,
          });
          start = cut + down;
        }
        const last = WEEK_END + 10 * MINUTE;
        if (start < last)
          rows.push({
            id: `pi_${i}_last`,
            nodeId,
            startedAt: start,
            lastSeenAt: last,
            endedAt: last,
            endReason: 'bye',
            bootId: null,
          });
        await tx.presence.write(rows);
        intervals += rows.length;
        if (i % 4 === 0) {
          const gpus = hardware.gpus.length;
          let seq = 0;
          for (const r of rows) {
            for (
              let t = Math.max(r.startedAt, WEEK_START) - (Math.max(r.startedAt, WEEK_START) % (5 * MINUTE));
              t + 5 * MINUTE <= (r.endedAt ?? 0);
              t += 5 * MINUTE
            ) {
              seq += 1;
              await tx.usage.store(
                {
                  nodeId,
                  seq,
                  fromAt: t,
                  toAt: t + 5 * MINUTE,
                  workloads: [{ leaseId: `akash1lease${i}/1/1/1`, gpus, seconds: 300 }],
                  receivedAt: t + 5 * MINUTE,
                },
                'bench-jws',
              );
              reports += 1;
            }
          }
        }
      }
    });
    if ((batch + 500) % 2000 === 0)
      log(`  ${Math.min(nodes, batch + 500)} nodes written (${reports} usage reports)`);
  }
  db.close();
  return { intervals, reports };
}

interface WeekRun {
  lines: number;
  csvRows: number;
  csvBytes: number;
  totalUusd: string;
  hash: string;
  computeSeconds: number;
  exportSeconds: number;
  rssBeforeMiB: number;
  peakRssMiB: number;
}

/**
 * A server process on `env`'s database creates the week's period (or, `again`, computes the one an
 * earlier run created, with its admin token), computes it and exports the CSV.
 */
async function computeWeek(
  env: Record<string, string>,
  log: (l: string) => void,
  again?: { token: string; periodId: string },
): Promise<WeekRun & { token: string; periodId: string }> {
  const server = await startServerProcess(env, again ? { token: again.token } : {});
  try {
    const headers = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const period = again
      ? { id: again.periodId }
      : ((await (
          await fetch(`${server.url}/v1/payout-periods`, {
            method: 'POST',
            headers,
            body: JSON.stringify({
              start: new Date(WEEK_START).toISOString(),
              end: new Date(WEEK_END).toISOString(),
            }),
          })
        ).json()) as { id: string });
    const rssBeforeMiB = server.rssMiB();
    log(`computing the statement (${env.HOMENODE_DATABASE_URL ? 'PostgreSQL' : 'SQLite'})…`);
    const t1 = performance.now();
    const res = await fetch(`${server.url}/v1/payout-periods/${period.id}/compute`, {
      method: 'POST',
      headers: { authorization: headers.authorization },
    });
    const statement = (await res.json()) as { lines: unknown[]; totals: { totalUusd: string } };
    const computeSeconds = (performance.now() - t1) / 1000;
    if (!res.ok) throw new Error(`compute failed: ${res.status} ${JSON.stringify(statement)}`);
    log('exporting CSV…');
    const t2 = performance.now();
    const csv = await (
      await fetch(`${server.url}/v1/payout-periods/${period.id}/export.csv`, {
        headers: { authorization: headers.authorization },
      })
    ).text();
    const exportSeconds = (performance.now() - t2) / 1000;
    return {
      token: server.token,
      periodId: period.id,
      lines: statement.lines.length,
      csvRows: csv.trimEnd().split('\r\n').length - 1,
      csvBytes: Buffer.byteLength(csv),
      totalUusd: statement.totals.totalUusd,
      // Over the lines and totals (the period's id differs from one database to the other).
      hash: createHash('sha256')
        .update(JSON.stringify([statement.lines, statement.totals]))
        .digest('hex'),
      computeSeconds,
      exportSeconds,
      rssBeforeMiB,
      peakRssMiB: server.peakRssMiB(),
    };
  } finally {
    await server.stop();
    server.cleanup();
  }
}

export async function benchPayouts({
  nodes,
  engine = 'sqlite',
  log,
}: {
  nodes: number;
  engine?: 'sqlite' | 'postgres';
  log: (l: string) => void;
}): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'homenode-payouts-'));
  const dbPath = join(dir, 'payouts.db');
  const postgres = engine === 'postgres' ? await startPostgres({ durable: true, cpus: '1' }) : null;
  try {
    log(`writing a week for ${nodes} nodes…`);
    const t0 = performance.now();
    const data = await buildFleetWeek(dbPath, nodes, log);
    const buildSeconds = (performance.now() - t0) / 1000;
    const env: Record<string, string> = { HOMENODE_DB: dbPath };
    let migrateSeconds = 0;
    if (postgres) {
      const db = await createDatabase(postgres.url, { prefix: 'hn_payouts' });
      log('copying it into PostgreSQL (migrate-db, checked)…');
      const t = performance.now();
      await migrateDatabase(dbPath, db.url);
      migrateSeconds = (performance.now() - t) / 1000;
      env.HOMENODE_DATABASE_URL = db.url;
      // The copy leaves a gigabyte of dirty buffers; a statement is computed long after its
      // week was written, so the timed runs start after a checkpoint has written them out.
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      await admin.query('CHECKPOINT').finally(() => admin.end());
    }
    // The same week on SQLite first (as without --engine), then on the PostgreSQL copy.
    const sqlite = await computeWeek({ HOMENODE_DB: dbPath }, log);
    const pgRun = env.HOMENODE_DATABASE_URL ? await computeWeek(env, log) : null;
    // Once more on PostgreSQL: the first run also warms its caches (both are reported).
    const pgAgain = pgRun ? await computeWeek(env, log, pgRun) : null;
    if (pgAgain && pgAgain.hash !== pgRun?.hash)
      throw new Error('PostgreSQL computed two different statements');
    if (pgRun && (pgRun.hash !== sqlite.hash || pgRun.totalUusd !== sqlite.totalUusd))
      throw new Error(
        `PostgreSQL's statement differs from SQLite's: ${pgRun.totalUusd} µUSD (${pgRun.hash}) against ${sqlite.totalUusd} µUSD (${sqlite.hash})`,
      );
    const run = pgRun ?? sqlite;
    return {
      nodes,
      postgres: pgRun ? 1 : 0,
      presenceIntervals: data.intervals,
      usageReports: data.reports,
      lines: run.lines,
      csvRows: run.csvRows,
      csvMiB: round(run.csvBytes / 1024 ** 2, 2),
      dbMiB: round(statSync(dbPath).size / 1024 ** 2),
      buildSeconds: round(buildSeconds, 1),
      ...(pgRun
        ? {
            migrateDbSeconds: round(migrateSeconds, 1),
            sqliteComputeSeconds: round(sqlite.computeSeconds, 2),
            sqliteExportSeconds: round(sqlite.exportSeconds, 2),
            sqliteServerPeakRssMiB: round(sqlite.peakRssMiB),
            sameHashAsSqlite: 1,
          }
        : {}),
      computeSeconds: round(run.computeSeconds, 2),
      ...(pgAgain ? { secondComputeSeconds: round(pgAgain.computeSeconds, 2) } : {}),
      exportSeconds: round(run.exportSeconds, 2),
      computeAndExportSeconds: round(run.computeSeconds + run.exportSeconds, 2),
      serverRssBeforeMiB: round(run.rssBeforeMiB),
      serverPeakRssMiB: round(run.peakRssMiB),
    };
  } finally {
    await postgres?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
