/**
 * A replica that the others declared dead (its heartbeat lapsed, say while its machine was
 * starved) finds out at its next heartbeat: it ends its sessions, registers again and keeps
 * serving, so the nodes that reconnect to it are counted again (new presence intervals), not
 * connected but invisible to payouts.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { connectControl, newSimIdentity, signNodeToken, simHello } from '../../scripts/sim/sim-agent.js';
import { testDatabase } from '../helpers/engines.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { startTestServer } from '../helpers/server.js';

describe('a replica declared dead by the others', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('ends its sessions, registers again, and records the presence of the nodes that reconnect', async () => {
    const db = await testDatabase();
    cleanups.push(() => db.drop());
    const server = await startTestServer({
      databaseUrl: db.url,
      replica: { secret: 'replica-secret-for-tests-0123456789abcdefghij', heartbeatMs: 500, lapseMs: 3000 },
    });
    cleanups.push(() => server.close());
    const sql = new pg.Client({ connectionString: db.url });
    await sql.connect();
    cleanups.push(() => sql.end());

    const owner = await server.createOwner();
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const enrolled = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, machine),
    });
    const { nodeId } = enrolled.body;
    expect((await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} })).status).toBe(200);
    const connect = async () => {
      const { conn } = await connectControl(server.url, await signNodeToken(identity, nodeId));
      if (!conn) throw new Error('refused');
      conn.send(simHello());
      await conn.sync();
      cleanups.push(() => conn.close().catch(() => undefined));
      return conn;
    };
    const first = await connect();
    const openIntervals = async () =>
      (
        await sql.query<{ id: string }>(
          'SELECT id FROM presence_intervals WHERE node_id = $1 AND ended_at IS NULL',
          [nodeId],
        )
      ).rows.map((r) => r.id);
    await expect.poll(openIntervals, { timeout: 15_000 }).toHaveLength(1);
    const [before] = await openIntervals();

    // What another replica's reap does to a lapsed one: stopped in the registry, presence closed.
    const at = Date.now();
    await sql.query("UPDATE replicas SET stopped_at = $1, stop_reason = 'replica-lapsed'", [at]);
    await sql.query(
      "UPDATE presence_intervals SET ended_at = last_seen_at, end_reason = 'replica-lapsed' WHERE ended_at IS NULL",
    );
    await first.waitClosed();
    expect(first.closeCode).toBe(4503);
    await expect
      .poll(async () => (await sql.query('SELECT 1 FROM replicas WHERE stopped_at IS NULL')).rowCount, {
        timeout: 5000,
      })
      .toBe(1);

    // The node comes back to the same replica: a new interval, written while it stays connected.
    const second = await connect();
    expect(await second.next('welcome')).toMatchObject({ nodeId, status: 'approved' });
    await expect.poll(openIntervals, { timeout: 15_000 }).toHaveLength(1);
    const [after] = await openIntervals();
    expect(after).not.toBe(before);
    const online = await server.api<{ online: boolean }>('GET', `/v1/nodes/${nodeId}`);
    expect(online.body.online).toBe(true);
  });
});
