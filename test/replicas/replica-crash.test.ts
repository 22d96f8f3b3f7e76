/**
 * Three enroll-server processes on one PostgreSQL database, simulated nodes spread over them; one
 * replica is killed with SIGKILL. Its nodes come back on the other two within 60 s, none gives
 * up, and the presence intervals it left open end at their last written sign of life.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type ServerProcess, startServerProcess } from '../../scripts/bench/server-process.js';
import type { FleetAgent } from '../../scripts/sim/fleet-agent.js';
import { approvedFleet, until } from '../faults/fault-support.js';
import { testDatabase } from '../helpers/engines.js';

const SECRET = 'replica-secret-for-tests-0123456789abcdefghij';

describe('a replica killed under load', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });

  it('has its nodes back on the other replicas within 60 s, its presence closed at the last sign of life', async () => {
    const db = await testDatabase();
    cleanups.push(() => db.drop());
    const token = `hn_test_${randomBytes(24).toString('base64url')}`;
    const env = {
      HOMENODE_DATABASE_URL: db.url,
      HOMENODE_REPLICA_SECRET: SECRET,
      HOMENODE_REPLICA_HEARTBEAT_SECONDS: '1',
      // Long enough that a survivor starved for a few seconds on a loaded 2-core machine is not
      // itself declared dead (its nodes would then reconnect too), short enough for the poll below.
      HOMENODE_REPLICA_LAPSE_SECONDS: '10',
      HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS: '100000',
    };
    const replicas: ServerProcess[] = [];
    for (let i = 0; i < 3; i += 1) {
      const replica = await startServerProcess(env, { token });
      cleanups.push(async () => {
        await replica.stop();
        replica.cleanup();
      });
      replicas.push(replica);
    }
    const urls = replicas.map((r) => r.url);
    const fleet: FleetAgent[] = await approvedFleet(urls[0]!, token, 18, urls[0], { urls });
    cleanups.push(async () => {
      await Promise.all(fleet.map((a) => a.stop(false)));
    });
    fleet.forEach((a) => a.start());
    await until(
      () => fleet.every((a) => a.connected && a.status === 'active'),
      30_000,
      'the fleet to be active',
    );
    // Presence is written every 5 s: let a batch land, so the crash leaves intervals to close.
    await new Promise((r) => setTimeout(r, 6000));

    const victim = replicas.reduce((most, r) =>
      fleet.filter((a) => a.url === r.url).length > fleet.filter((a) => a.url === most.url).length ? r : most,
    );
    const moved = fleet.filter((a) => a.url === victim.url);
    expect(moved.length).toBeGreaterThan(0);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    cleanups.push(() => client.end());
    const victimId = (
      await client.query<{ id: string }>('SELECT id FROM replicas WHERE url = $1 AND stopped_at IS NULL', [
        victim.url,
      ])
    ).rows[0]?.id;
    expect(victimId).toBeDefined();

    const killedAt = Date.now();
    await victim.stop('SIGKILL');
    await until(
      () => moved.every((a) => a.connected && a.url !== victim.url),
      60_000,
      "the killed replica's nodes to reconnect elsewhere",
    );
    const backWithinMs = Date.now() - killedAt;
    expect(backWithinMs).toBeLessThan(60_000);
    // Every node is connected within the same 60 s (those that were not moved never left, unless a
    // survivor starved past the lapse was declared dead too); a failure names them.
    await until(
      () => fleet.every((a) => a.connected),
      Math.max(1, 60_000 - (Date.now() - killedAt)),
      'every node to be connected',
    ).catch(() => undefined);
    expect(
      fleet
        .filter((a) => !a.connected)
        .map((a) => ({ node: a.options.nodeId, url: a.url, refusal: a.lastRefusal, connects: a.connects })),
    ).toEqual([]);
    expect(fleet.reduce((n, a) => n + a.refusals, 0)).toBe(0);

    // After the heartbeat lapses, another replica closes what the dead one left open.
    await expect
      .poll(
        async () =>
          (
            await client.query<{ n: string }>(
              'SELECT COUNT(*) AS n FROM presence_intervals WHERE replica_id = $1 AND ended_at IS NULL',
              [victimId],
            )
          ).rows[0]?.n,
        { timeout: 30_000, interval: 500 },
      )
      .toBe('0');
    const closed = (
      await client.query<{ node_id: string; ended_at: string; last_seen_at: string; end_reason: string }>(
        'SELECT node_id, ended_at, last_seen_at, end_reason FROM presence_intervals WHERE replica_id = $1',
        [victimId],
      )
    ).rows;
    expect(new Set(closed.map((r) => r.node_id))).toEqual(new Set(moved.map((a) => a.options.nodeId)));
    for (const row of closed) {
      expect(row.end_reason).toBe('replica-lapsed');
      expect(row.ended_at).toBe(row.last_seen_at);
      // The last written sign of life: before the kill, and at most one presence batch before it.
      expect(Number(row.last_seen_at)).toBeLessThanOrEqual(killedAt);
      expect(Number(row.last_seen_at)).toBeGreaterThan(killedAt - 7000);
    }
    const dead = await client.query<{ stopped_at: string | null; stop_reason: string }>(
      'SELECT stopped_at, stop_reason FROM replicas WHERE id = $1',
      [victimId],
    );
    expect(dead.rows[0]).toMatchObject({ stop_reason: 'replica-lapsed' });
    // Each moved node has a live claim on a surviving replica and shows online there.
    const claims = await client.query<{ node_id: string; replica_id: string }>(
      'SELECT node_id, replica_id FROM node_sessions WHERE node_id = ANY($1::text[])',
      [moved.map((a) => a.options.nodeId)],
    );
    expect(claims.rows).toHaveLength(moved.length);
    expect(claims.rows.every((r) => r.replica_id !== victimId)).toBe(true);
    const survivor = replicas.find((r) => r !== victim)!;
    for (const agent of moved) {
      const res = await fetch(`${survivor.url}/v1/nodes/${agent.options.nodeId}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await res.json()) as { online: boolean }).online).toBe(true);
    }
  });
});
