/**
 * What an enrollment may leave in the database (only the schema's known facts, bounded), and the
 * keys an owner may make for themself (a few uses, a week) against what ops may make.
 */
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ErrorBody } from '../../protocol/api.js';
import { enrollBody, newMachine, rtx4090Hardware } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function setup() {
  const server = await startTestServer();
  servers.push(server);
  return { server, owner: await server.createOwner() };
}

describe('enrollment keeps only the facts it knows', () => {
  it('drops unknown hardware and check fields (800 KiB of them) before storing; the node and its history stay small', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const machine = await newMachine();
    const body = enrollBody(key, machine);
    const junk = 'x'.repeat(200 * 1024);
    const hw = body.hardware;
    const res = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: {
        ...body,
        extraTopLevel: junk,
        hardware: {
          ...hw,
          notInTheSchema: junk,
          cpu: { ...hw.cpu, flags: junk },
          gpus: hw.gpus.map((g) => ({ ...g, vbios: junk })),
        },
        preflight: body.preflight.map((c, i) => (i === 0 ? { ...c, trace: junk } : c)),
      },
    });
    expect(res.status).toBe(201);
    const { nodeId } = res.body;
    const detail = await server.api<{
      hardware: Record<string, unknown>;
      preflight: Record<string, unknown>[];
    }>('GET', `/v1/nodes/${nodeId}`);
    expect(detail.body.hardware).toEqual(hw);
    expect(detail.body.preflight).toEqual(body.preflight);
    const db = new Database(server.dbPath, { readonly: true });
    try {
      const node = db
        .prepare<[string], { h: number; p: number }>(
          'SELECT length(hardware) AS h, length(preflight) AS p FROM nodes WHERE id = ?',
        )
        .get(nodeId);
      const history = db
        .prepare<[string], { h: number }>(
          'SELECT length(hardware) AS h FROM node_hardware_history WHERE node_id = ?',
        )
        .all(nodeId);
      expect(node?.h).toBeLessThan(4096);
      expect(node?.p).toBeLessThan(8192);
      expect(history.map((r) => r.h < 4096)).toEqual([true]);
    } finally {
      db.close();
    }
  });

  it('refuses known facts too large to keep, naming the field', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const hw = rtx4090Hardware();
    const iface = hw.network.interfaces[0]!;
    // 250 virtual interfaces with 16 addresses each: valid, but about 100 KiB.
    const interfaces = Array.from({ length: 250 }, (_, i) => ({
      ...iface,
      name: `veth${i}`.padEnd(64, 'x'),
      defaultRoute: false,
      virtual: true,
      ipv4: Array.from({ length: 16 }, (_, j) => `10.${i % 250}.${j}.1/24`),
    }));
    const machine = await newMachine({ ...hw, network: { interfaces: [iface, ...interfaces] } });
    const res = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key, machine),
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringMatching(
        /^body field 'hardware' holds \d+ KiB of known facts; at most 64 KiB is kept$/,
      ),
    });
    // Nothing was used up by the refusal.
    const keys = await server.api<{ keys: { uses: number }[] }>('GET', `/v1/keys?ownerId=${owner.id}`);
    expect(keys.body.keys[0]?.uses).toBe(0);
  });
});

describe('installation keys an owner makes for themself', () => {
  it('may have at most 5 uses and 7 days; ops may make more', async () => {
    const { server, owner } = await setup();
    const self = await server.tokenFor('owner', owner.id);
    const make = (token: string, body: Record<string, unknown>) =>
      server.api<ErrorBody & { maxUses: number; expiresAt: string }>('POST', '/v1/keys', { token, body });

    const many = await make(self, { maxUses: 1000, ttlHours: 2160 });
    expect(many.status).toBe(400);
    expect(many.body.error.message).toContain(
      "body field 'ttlHours' must be at most 168 for a key you make yourself; ask the operations team for a key with more time",
    );
    const uses = await make(self, { maxUses: 6 });
    expect(uses.status).toBe(400);
    expect(uses.body.error.message).toBe(
      "body field 'maxUses' must be at most 5 for a key you make yourself; ask the operations team for a key with more uses",
    );
    const fine = await make(self, { maxUses: 5, ttlHours: 168 });
    expect(fine.status).toBe(201);
    expect(fine.body.maxUses).toBe(5);
    const plain = await make(self, {});
    expect(plain.status).toBe(201);
    expect(plain.body.maxUses).toBe(1);

    const ops = await server.tokenFor('ops');
    const batch = await make(ops, { ownerId: owner.id, maxUses: 1000, ttlHours: 2160 });
    expect(batch.status).toBe(201);
    expect(batch.body.maxUses).toBe(1000);
    expect(Date.parse(batch.body.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
    expect((await make(ops, { ownerId: owner.id, maxUses: 1001 })).status).toBe(400);
  });
});
