/**
 * The server is killed with SIGKILL while agents send usage reports, then restarted: no acked report
 * is lost, none is stored twice, and presence left open by the crash ends at its last sign of life.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../scripts/bench/server-process.js';
import type { FleetAgent } from '../../scripts/sim/fleet-agent.js';
import { approvedFleet, until, window } from './fault-support.js';

describe('server killed under traffic', () => {
  let server: ServerProcess | undefined;
  let fleet: FleetAgent[] = [];
  afterEach(async () => {
    await Promise.all(fleet.map((a) => a.stop(false)));
    await server?.stop();
    server?.cleanup();
  });

  it('loses no acknowledged report, stores none twice, and closes presence at the last sign of life', async () => {
    server = await startServerProcess({
      HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS: '100000',
      HOMENODE_CONTROL_FRAME_BUDGET_FACTOR: '50',
    });
    fleet = await approvedFleet(server.url, server.token, 12);
    fleet.forEach((a) => a.start());
    await until(
      () => fleet.every((a) => a.connected && a.status === 'active'),
      20_000,
      'the fleet to be active',
    );

    let sending = true;
    const sent = new Map<FleetAgent, number>();
    const traffic = (async () => {
      for (let i = 0; sending; i += 1) {
        await Promise.all(
          fleet.map(async (a) => {
            const [from, to] = window(i);
            await a.report(from, to, [{ leaseId: 'lease-1', gpus: 1, seconds: 5 }]);
            sent.set(a, (sent.get(a) ?? 0) + 1);
          }),
        );
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await until(() => fleet.every((a) => a.acked.size >= 5), 10_000, 'some reports acked');
    // Presence is written in batches every 5 s: let one batch land, so the crash has open intervals to close.
    await new Promise((r) => setTimeout(r, 5500));
    const ackedBeforeCrash = new Map(fleet.map((a) => [a, new Set(a.acked)]));
    await server.restart('SIGKILL', 300);
    await until(() => fleet.every((a) => a.connected), 20_000, 'the fleet to reconnect');
    await new Promise((r) => setTimeout(r, 300));
    sending = false;
    await traffic;
    await until(() => fleet.every((a) => a.unackedCount === 0), 20_000, 'every report acked');
    await Promise.all(fleet.map((a) => a.stop(true)));
    await server.stop();

    const db = new Database(server.dbPath, { readonly: true });
    try {
      for (const agent of fleet) {
        const rows = db
          .prepare<[string], { seq: number }>('SELECT seq FROM usage_reports WHERE node_id = ? ORDER BY seq')
          .all(agent.options.nodeId);
        const seqs = rows.map((r) => r.seq);
        // Every report the agent made is stored exactly once (the primary key forbids twice).
        expect(seqs).toEqual(Array.from({ length: sent.get(agent) ?? 0 }, (_, i) => i + 1));
        for (const seq of ackedBeforeCrash.get(agent) ?? []) expect(seqs).toContain(seq);
      }
      const open = db
        .prepare('SELECT COUNT(*) AS n FROM presence_intervals WHERE ended_at IS NULL')
        .get() as { n: number };
      expect(open.n).toBe(0);
      const crashed = db
        .prepare("SELECT ended_at, last_seen_at FROM presence_intervals WHERE end_reason = 'server-restart'")
        .all() as { ended_at: number; last_seen_at: number }[];
      expect(crashed.length).toBe(fleet.length);
      for (const row of crashed) expect(row.ended_at).toBe(row.last_seen_at);
      expect(
        (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check,
      ).toBe('ok');
    } finally {
      db.close();
    }
  });
});
