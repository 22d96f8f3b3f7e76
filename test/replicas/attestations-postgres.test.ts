/**
 * Attestations with the server on PostgreSQL and two replicas sharing the auditor key file: a
 * node audited through one replica is attested by the other with the same key, its placement is
 * answered there, and a failed audit withdraws the attestation on both at once (nothing about
 * attestations lives in a replica's memory but the 15-second cache of the public answers).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { auditSetup } from '../integration/audit-sim-support.js';
import { testDatabase } from '../helpers/engines.js';
import { startTestServer } from '../helpers/server.js';

const AUDITOR = `akash1hnaud${'q'.repeat(33)}`;

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

describe('attestations on PostgreSQL, across replicas', () => {
  it('one key for all replicas; a pass seen by both; a failure withdraws it on both', async () => {
    const db = await testDatabase();
    cleanup.push(() => db.drop());
    const s = await auditSetup({ databaseUrl: db.url, auditor: { address: AUDITOR } });
    cleanup.push(() => s.server.close());
    const other = await startTestServer({
      databaseUrl: db.url,
      now: s.clock.now,
      auditor: { keyFile: join(s.server.dir, 'auditor-key.json'), address: AUDITOR },
    });
    cleanup.push(() => other.close());

    const a = await s.server.api<{ publicKey: { x: string } }>('GET', '/v1/auditor', { token: null });
    const b = await other.api<{ publicKey: { x: string } }>('GET', '/v1/auditor', { token: null });
    expect(b.body.publicKey).toEqual(a.body.publicKey);
    const key = await importJWK({ ...a.body.publicKey }, 'EdDSA');

    const n = await s.node({ join: true });
    await s.tick();
    const first = await n.answer('pass');
    await s.settled(n.nodeId, first.auditId);
    const got = await other.api<{ jws: string }>('GET', `/v1/nodes/${n.nodeId}/attestation`);
    expect(got.status).toBe(200);
    const { payload } = await jwtVerify(got.body.jws, key, {
      issuer: AUDITOR,
      subject: n.nodeId,
      currentDate: new Date(s.clock.now()),
    });
    expect(payload.auditId).toBe(first.auditId);

    const sdl = readFileSync(
      join(import.meta.dirname, '..', 'fixtures', 'akash', 'gpu-signed-anyof.yaml'),
      'utf8',
    ).replace(/- akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63/, `- ${AUDITOR}`);
    const match = await other.api<{ placements: { eligible: boolean; nodes: string[] }[] }>(
      'POST',
      '/v1/placements/match',
      { raw: sdl, headers: { 'content-type': 'application/yaml' } },
    );
    expect(match.body.placements).toEqual([expect.objectContaining({ eligible: true, nodes: [n.nodeId] })]);

    await s.server.api('POST', `/v1/nodes/${n.nodeId}/audits`);
    await s.tick();
    const failed = await n.answer('fail');
    await s.settled(n.nodeId, failed.auditId);
    for (const server of [s.server, other]) {
      const gone = await server.api<{ error: { code: string } }>('GET', `/v1/nodes/${n.nodeId}/attestation`);
      expect([gone.status, gone.body.error.code]).toEqual([404, 'NOT_ATTESTED']);
    }
  });
});
