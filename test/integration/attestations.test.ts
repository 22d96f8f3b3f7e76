/**
 * Attestations on the real server with simulated nodes (real keys, signed audit reports): the
 * auditor's key, a node's attestation verified with jose against the published key (and a changed
 * one refused), withdrawn by a failed audit and signed anew by a pass; the provider's attributes
 * from attested nodes only, and their on-chain publication for ops; who may see what.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type JWK, compactVerify, importJWK, jwtVerify } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import { HOUR, auditSetup } from './audit-sim-support.js';

// Akash accounts: `akash1` and 38 bech32 characters.
const AUDITOR = `akash1hnaud${'q'.repeat(33)}`;
const PROVIDER = `akash1hnprv${'p'.repeat(33)}`;
const COMBINED = 'capabilities/gpu/vendor/nvidia/model/rtx4090/ram/24Gi/interface/pcie';

type ErrorBody = { error: { code: string; message: string } };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(auditor = { address: AUDITOR, providerAddress: PROVIDER }) {
  const s = await auditSetup({ auditor });
  cleanup.push(() => s.server.close());
  const published = await s.server.api<{ auditorId: string; publicKey: JWK }>('GET', '/v1/auditor', {
    token: null,
  });
  const key = await importJWK(published.body.publicKey, 'EdDSA');
  /** A joined node whose first audit passed. */
  const passingNode = async (ownerId?: string) => {
    const n = await s.node({ join: true, ...(ownerId ? { ownerId } : {}) });
    await s.tick();
    const request = await n.answer('pass');
    await s.settled(n.nodeId, request.auditId);
    return n;
  };
  /** Ops ask for an audit; the node answers with this verdict. */
  const audit = async (n: Awaited<ReturnType<typeof passingNode>>, verdict: 'pass' | 'fail') => {
    await s.server.api('POST', `/v1/nodes/${n.nodeId}/audits`);
    await s.tick();
    const request = await n.answer(verdict);
    return s.settled(n.nodeId, request.auditId);
  };
  return { ...s, published: published.body, key, passingNode, audit };
}

describe('the auditor and attestations', () => {
  it('makes the auditor key at 0600 and publishes it with the configured account as its id', async () => {
    const s = await setup();
    expect(s.published.auditorId).toBe(AUDITOR);
    expect(s.published.publicKey).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    const file = join(s.server.dir, 'auditor-key.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ x: s.published.publicKey.x });
  });

  it("a passing node's attestation verifies with the published key; a changed one does not; a failed audit withdraws it", async () => {
    const s = await setup();
    const owner = await s.server.createOwner();
    const ownerToken = await s.server.tokenFor('owner', owner.id);
    const n = await s.node({ ownerId: owner.id, join: true });

    const before = await s.server.api<ErrorBody>('GET', `/v1/nodes/${n.nodeId}/attestation`);
    expect([before.status, before.body.error.code]).toEqual([404, 'NOT_ATTESTED']);
    expect(before.body.error.message).toContain('It is attested again as soon as an audit passes');

    await s.tick();
    const first = await n.answer('pass');
    await s.settled(n.nodeId, first.auditId);
    const got = await s.server.api<{ jws: string }>('GET', `/v1/nodes/${n.nodeId}/attestation`, {
      token: ownerToken,
    });
    expect(got.status).toBe(200);
    const { payload, protectedHeader } = await jwtVerify(got.body.jws, s.key, {
      issuer: AUDITOR,
      subject: n.nodeId,
      currentDate: new Date(s.clock.now()),
    });
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', typ: 'homenode-attestation+jwt' });
    expect(payload.auditId).toBe(first.auditId);
    expect(payload.attributes).toEqual(expect.arrayContaining([{ key: COMBINED, value: 'true' }]));
    // Valid until the next audit is due (24 h, jitter 0 with random 0.5) plus the 120-minute grace.
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(24 * 3600 + 120 * 60);

    // One attribute changed, the signature kept: refused.
    const [header, body, signature] = got.body.jws.split('.');
    const forged = JSON.parse(Buffer.from(body!, 'base64url').toString()) as { attributes: unknown[] };
    forged.attributes.push({ key: 'capabilities/gpu/vendor/nvidia/model/h100', value: 'true' });
    const changed = `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
    await expect(compactVerify(changed, s.key)).rejects.toThrow(/signature verification failed/);

    // Reviewers may read it; another owner does not see the node at all.
    const reviewer = await s.server.tokenFor('reviewer');
    expect((await s.server.api('GET', `/v1/nodes/${n.nodeId}/attestation`, { token: reviewer })).status).toBe(
      200,
    );
    const other = await s.server.tokenFor('owner', (await s.server.createOwner()).id);
    const byOther = await s.server.api<ErrorBody>('GET', `/v1/nodes/${n.nodeId}/attestation`, {
      token: other,
    });
    expect([byOther.status, byOther.body.error.code]).toEqual([404, 'NOT_FOUND']);

    // The GPU falls off the bus: the next audit fails and the attestation is gone at once.
    expect((await s.audit(n, 'fail')).status).toBe('failed');
    const withdrawn = await s.server.api<ErrorBody>('GET', `/v1/nodes/${n.nodeId}/attestation`);
    expect([withdrawn.status, withdrawn.body.error.code]).toEqual([404, 'NOT_ATTESTED']);

    // Fixed: the next pass signs anew, for the new audit.
    const again = await s.audit(n, 'pass');
    const renewed = await s.server.api<{ jws: string }>('GET', `/v1/nodes/${n.nodeId}/attestation`);
    const verified = await jwtVerify(renewed.body.jws, s.key, { currentDate: new Date(s.clock.now()) });
    expect(verified.payload.auditId).toBe(again.id);
    expect(renewed.body.jws).not.toBe(got.body.jws);
  });

  it('an attestation runs out when no audit renews it in time', async () => {
    const s = await setup();
    const n = await s.passingNode();
    expect((await s.server.api('GET', `/v1/nodes/${n.nodeId}/attestation`)).status).toBe(200);
    s.clock.advance(26 * HOUR);
    const late = await s.server.api<ErrorBody>('GET', `/v1/nodes/${n.nodeId}/attestation`);
    expect([late.status, late.body.error.code]).toEqual([404, 'NOT_ATTESTED']);
  });
});

describe("the provider's attributes", () => {
  it('come from attested nodes only, signed, and drop a GPU whose node failed its audit', async () => {
    const s = await setup();
    const rtx = await s.passingNode();
    // An RTX 3090 node, approved and joined but never audited: not part of what we vouch for.
    await s.node({
      join: true,
      hardware: {
        ...rtx4090Hardware(),
        gpus: [
          {
            vendor: 'nvidia',
            model: 'rtx3090',
            pciId: '10de:2204',
            memoryBytes: 24_576 * 1024 * 1024,
            uuid: 'GPU-0b1e5c55-aa43-4c1c-9a2e-3f7d28c1d001',
            driver: '550.54.15',
            name: 'NVIDIA GeForce RTX 3090',
          },
        ],
      },
    });
    const answer = await s.server.api<{
      attributes: { key: string; value: string }[];
      auditorId: string;
      jws: string;
      attestedNodes: number;
    }>('GET', '/v1/provider/attributes', { token: null });
    expect(answer.status).toBe(200);
    const keys = answer.body.attributes.map((a) => a.key);
    expect(keys).toEqual(
      expect.arrayContaining([COMBINED, 'host', 'location-type', 'capabilities/cpu/arch']),
    );
    expect(keys.some((k) => k.includes('rtx3090'))).toBe(false);
    expect(answer.body.attestedNodes).toBe(1);
    const signed = await jwtVerify(answer.body.jws, s.key, { currentDate: new Date(s.clock.now()) });
    expect(signed.payload).toMatchObject({ iss: AUDITOR, sub: PROVIDER, attributes: answer.body.attributes });
    expect(signed.protectedHeader.typ).toBe('homenode-provider-attributes+jwt');

    // Ops get the exact transaction and command that publish them on chain.
    const publication = await s.server.api<{
      message: { '@type': string; owner: string; auditor: string; attributes: unknown[] };
      argv: string[];
      command: string;
    }>('GET', '/v1/provider/attributes/publication', { token: await s.server.tokenFor('ops') });
    expect(publication.body.message).toEqual({
      '@type': '/akash.audit.v1.MsgSignProviderAttributes',
      owner: PROVIDER,
      auditor: AUDITOR,
      attributes: answer.body.attributes,
    });
    expect(publication.body.argv.slice(0, 6)).toEqual([
      'provider-services',
      'tx',
      'audit',
      'attr',
      'create',
      PROVIDER,
    ]);
    expect(publication.body.argv.slice(-2)).toEqual(['--from', AUDITOR]);
    expect(publication.body.command).toContain(`${COMBINED} true`);
    const owner = await s.server.tokenFor('owner', rtx.ownerId);
    expect((await s.server.api('GET', '/v1/provider/attributes/publication', { token: owner })).status).toBe(
      403,
    );

    await s.audit(rtx, 'fail');
    // The public answer is computed at most every 15 s.
    s.clock.advance(16_000);
    const after = await s.server.api<{ attributes: { key: string }[]; attestedNodes: number }>(
      'GET',
      '/v1/provider/attributes',
      { token: null },
    );
    expect(after.body.attestedNodes).toBe(0);
    expect(after.body.attributes.some((a) => a.key.startsWith('capabilities/gpu/'))).toBe(false);
  });

  it('without Akash accounts configured, publication says which settings to make', async () => {
    const s = await setup({} as { address: string; providerAddress: string });
    expect(s.published.auditorId).toMatch(/^homenode-auditor:[A-Za-z0-9_-]{43}$/);
    const answer = await s.server.api<ErrorBody>('GET', '/v1/provider/attributes/publication');
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toContain('set HOMENODE_AUDITOR_ADDRESS and HOMENODE_PROVIDER_ADDRESS');
  });
});
