import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { TEST_ADMIN_TOKEN, type TestServer, startTestServer } from '../helpers/server.js';

type ErrorBody = { error: { code: string; message: string } };

describe('enroll-server API', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  async function setup() {
    const server = await startTestServer();
    servers.push(server);
    return server;
  }

  it('serves health, readiness, Prometheus metrics and an OpenAPI document', async () => {
    const server = await setup();
    expect((await server.api('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    expect((await server.api('GET', '/readyz', { token: null })).status).toBe(200);
    await server.api('POST', '/v1/enroll', {
      token: null,
      body: { installationKey: 'HN-0000-0000-0000-0000-0000' },
    });
    const metrics = await server.api<string>('GET', '/metrics', { token: null });
    expect(metrics.headers.get('content-type')).toContain('text/plain');
    expect(metrics.body).toMatch(
      /homenode_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/,
    );
    expect(metrics.body).toContain('homenode_enrollments_total');
    const openapi = await server.api<{ openapi: string; paths: Record<string, unknown> }>(
      'GET',
      '/openapi.json',
      { token: null },
    );
    expect(openapi.body.openapi).toBe('3.1.0');
    expect(Object.keys(openapi.body.paths)).toEqual(
      expect.arrayContaining(['/v1/enroll', '/v1/keys', '/v1/nodes/{id}/approve', '/v1/policy']),
    );
    const policy = await server.api<{ policy: { requireGpu: boolean }; serverTime: string }>(
      'GET',
      '/v1/policy',
      { token: null },
    );
    expect(policy.body.policy.requireGpu).toBe(true);
    expect(Date.parse(policy.body.serverTime)).toBeGreaterThan(0);
  });

  it('creates owners and tokens (shown once, listed without secret), and revokes tokens', async () => {
    const server = await setup();
    const owner = await server.api<{ id: string; email: string }>('POST', '/v1/owners', {
      body: { email: 'Ada@Example.com', name: 'Ada' },
    });
    expect(owner.status).toBe(201);
    expect(owner.body.email).toBe('ada@example.com');
    expect(
      (
        await server.api<ErrorBody>('POST', '/v1/owners', {
          body: { email: 'ada@example.com', name: 'Ada 2' },
        })
      ).status,
    ).toBe(409);
    expect(
      (await server.api<ErrorBody>('POST', '/v1/owners', { body: { email: 'not-an-email', name: 'X' } }))
        .status,
    ).toBe(400);

    const created = await server.api<{ id: string; token: string }>('POST', '/v1/tokens', {
      body: { role: 'owner', ownerId: owner.body.id, label: 'laptop' },
    });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^hn_[A-Za-z0-9_-]{43}$/);
    const me = await server.api('GET', '/v1/me', { token: created.body.token });
    expect(me.body).toMatchObject({ role: 'owner', ownerId: owner.body.id });
    const list = await server.api<{ tokens: Record<string, unknown>[] }>('GET', '/v1/tokens');
    expect(JSON.stringify(list.body)).not.toContain(created.body.token);
    expect(list.body.tokens).toHaveLength(2);
    expect((await server.api('DELETE', `/v1/tokens/${created.body.id}`)).status).toBe(200);
    const after = await server.api<ErrorBody>('GET', '/v1/me', { token: created.body.token });
    expect([after.status, after.body.error.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(
      (await server.api<ErrorBody>('POST', '/v1/tokens', { body: { role: 'owner' } })).body.error.message,
    ).toContain('ownerId');
  });

  it('enforces roles on every route and answers 401 without a token', async () => {
    const server = await setup();
    const owner = await server.createOwner();
    const ops = await server.tokenFor('ops');
    const reviewer = await server.tokenFor('reviewer');
    const ownerToken = await server.tokenFor('owner', owner.id);
    expect((await server.api('GET', '/v1/nodes', { token: null })).status).toBe(401);
    expect((await server.api('GET', '/v1/nodes', { token: 'hn_bogus' })).status).toBe(401);
    expect((await server.api('POST', '/v1/tokens', { token: ops, body: { role: 'admin' } })).status).toBe(
      403,
    );
    expect(
      (
        await server.api('POST', '/v1/owners', {
          token: reviewer,
          body: { email: 'x@example.com', name: 'X' },
        })
      ).status,
    ).toBe(403);
    expect((await server.api('POST', '/v1/keys', { token: reviewer, body: {} })).status).toBe(403);
    expect((await server.api('GET', '/v1/audit', { token: ownerToken })).status).toBe(403);
    expect((await server.api('GET', '/v1/audit', { token: reviewer })).status).toBe(403);
    expect((await server.api('GET', '/v1/nodes', { token: reviewer })).status).toBe(200);
    expect((await server.api('GET', '/v1/audit', { token: ops })).status).toBe(200);
    const ownerKey = await server.api<{ key: string }>('POST', '/v1/keys', { token: ownerToken, body: {} });
    expect(ownerKey.status).toBe(201);
    const nodeRes = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(ownerKey.body.key, await newMachine()),
    });
    expect(
      (await server.api('POST', `/v1/nodes/${nodeRes.body.nodeId}/approve`, { token: ownerToken, body: {} }))
        .status,
    ).toBe(403);
    expect(
      (await server.api('POST', `/v1/nodes/${nodeRes.body.nodeId}/approve`, { token: reviewer, body: {} }))
        .status,
    ).toBe(403);
    expect(
      (await server.api('POST', `/v1/nodes/${nodeRes.body.nodeId}/approve`, { token: ops, body: {} })).status,
    ).toBe(200);
  });

  it("answers 404 for another owner's nodes, keys and profile", async () => {
    const server = await setup();
    const alice = await server.createOwner('alice@example.com');
    const bob = await server.createOwner('bob@example.com');
    const aliceToken = await server.tokenFor('owner', alice.id);
    const bobToken = await server.tokenFor('owner', bob.id);
    const key = await server.api<{ id: string; key: string }>('POST', '/v1/keys', {
      token: aliceToken,
      body: { label: 'rig' },
    });
    const node = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key.body.key, await newMachine()),
    });

    expect((await server.api('GET', `/v1/nodes/${node.body.nodeId}`, { token: aliceToken })).status).toBe(
      200,
    );
    expect(
      (await server.api<ErrorBody>('GET', `/v1/nodes/${node.body.nodeId}`, { token: bobToken })).body.error
        .code,
    ).toBe('NOT_FOUND');
    expect((await server.api('GET', `/v1/nodes/${node.body.nodeId}`, { token: bobToken })).status).toBe(404);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes', { token: bobToken })).body.total).toBe(0);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes', { token: aliceToken })).body.total).toBe(
      1,
    );
    expect((await server.api('DELETE', `/v1/keys/${key.body.id}`, { token: bobToken })).status).toBe(404);
    expect((await server.api('GET', `/v1/keys?ownerId=${alice.id}`, { token: bobToken })).status).toBe(404);
    expect(
      (await server.api('POST', '/v1/keys', { token: bobToken, body: { ownerId: alice.id } })).status,
    ).toBe(404);
    expect((await server.api('GET', `/v1/owners/${alice.id}`, { token: bobToken })).status).toBe(404);
    expect(
      (await server.api<{ keys: unknown[] }>('GET', '/v1/keys', { token: bobToken })).body.keys,
    ).toHaveLength(0);
    expect((await server.api('DELETE', `/v1/keys/${key.body.id}`, { token: aliceToken })).status).toBe(200);
  });

  it('lists keys without secrets and validates key options', async () => {
    const server = await setup();
    const owner = await server.createOwner();
    const created = await server.api<{
      key: string;
      keyId: string;
      masked: string;
      maxUses: number;
      state: string;
      expiresAt: string;
      createdAt: string;
    }>('POST', '/v1/keys', { body: { ownerId: owner.id, ttlHours: 48, maxUses: 5, label: 'garage' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      maxUses: 5,
      state: 'active',
      masked: `HN-${created.body.keyId}-****-****-****-****`,
    });
    expect(Date.parse(created.body.expiresAt) - Date.parse(created.body.createdAt)).toBe(48 * 3_600_000);
    const list = await server.api('GET', `/v1/keys?ownerId=${owner.id}`);
    expect(JSON.stringify(list.body)).not.toContain(created.body.key.slice(8));
    expect(
      (await server.api<ErrorBody>('POST', '/v1/keys', { body: { ownerId: owner.id, maxUses: 0 } })).status,
    ).toBe(400);
    expect(
      (await server.api<ErrorBody>('POST', '/v1/keys', { body: { ownerId: owner.id, ttlHours: 100_000 } }))
        .body.error.message,
    ).toContain('ttlHours');
    expect((await server.api<ErrorBody>('POST', '/v1/keys', { body: {} })).body.error.message).toContain(
      'ownerId',
    );
    expect((await server.api('POST', '/v1/keys', { body: { ownerId: 'own_nope' } })).status).toBe(404);
  });

  it('moves nodes through approve, reject and revoke with audit entries, and filters the list', async () => {
    const server = await setup();
    const owner = await server.createOwner('carol@example.com', 'Carol');
    const ops = await server.tokenFor('ops');
    const enroll = async () =>
      (
        await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
          token: null,
          body: enrollBody((await server.createKey(owner.id)).key, await newMachine()),
        })
      ).body.nodeId;
    const [a, b, c] = [await enroll(), await enroll(), await enroll()];

    const approved = await server.api<{ status: string; approvedAt: string }>(
      'POST',
      `/v1/nodes/${a}/approve`,
      { token: ops, body: { note: 'looks good' } },
    );
    expect(approved.body.status).toBe('approved');
    expect(approved.body.approvedAt).not.toBeNull();
    const again = await server.api<ErrorBody>('POST', `/v1/nodes/${a}/approve`, { token: ops, body: {} });
    expect([again.status, again.body.error.code]).toEqual([409, 'INVALID_TRANSITION']);

    expect(
      (await server.api<ErrorBody>('POST', `/v1/nodes/${b}/reject`, { token: ops, body: {} })).body.error
        .message,
    ).toContain("'reason'");
    const rejected = await server.api<{ status: string; statusReason: string }>(
      'POST',
      `/v1/nodes/${b}/reject`,
      { token: ops, body: { reason: 'GPU fan broken' } },
    );
    expect(rejected.body).toMatchObject({ status: 'rejected', statusReason: 'GPU fan broken' });
    const revoked = await server.api<{ status: string }>('POST', `/v1/nodes/${a}/revoke`, {
      token: ops,
      body: { reason: 'abuse' },
    });
    expect(revoked.body.status).toBe('revoked');
    expect(
      (await server.api('POST', '/v1/nodes/node_unknown/approve', { token: ops, body: {} })).status,
    ).toBe(404);

    const pending = await server.api<{ nodes: { id: string }[]; total: number }>(
      'GET',
      '/v1/nodes?status=pending',
    );
    expect(pending.body.nodes.map((n) => n.id)).toEqual([c]);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes?q=carol')).body.total).toBe(3);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes?q=rtx4090')).body.total).toBe(3);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes?q=nobody')).body.total).toBe(0);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes?online=true')).body.total).toBe(0);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes?online=false')).body.total).toBe(3);
    expect((await server.api<ErrorBody>('GET', '/v1/nodes?status=sleeping')).status).toBe(400);

    const audit = await server.api<{
      entries: { action: string; actor: { type: string; role: string }; targetId: string; at: string }[];
    }>('GET', `/v1/audit?targetType=node&targetId=${a}`);
    expect(audit.body.entries.map((e) => e.action)).toEqual([
      'node.revoked',
      'node.approved',
      'node.enrolled',
    ]);
    expect(audit.body.entries[0]).toMatchObject({ actor: { type: 'token', role: 'ops' }, targetId: a });
    const all = await server.api<{ entries: { action: string }[] }>('GET', '/v1/audit?limit=500');
    expect(all.body.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['owner.created', 'token.created', 'key.created', 'node.rejected']),
    );
  });

  it('keeps no key secret and no API token in clear in the database file or its WAL', async () => {
    const server = await setup();
    const owner = await server.createOwner();
    const token = await server.tokenFor('owner', owner.id);
    const keys: string[] = [];
    for (let i = 0; i < 3; i += 1) keys.push((await server.createKey(owner.id, { maxUses: 2 })).key);
    await server.api('POST', '/v1/enroll', { token: null, body: enrollBody(keys[0]!, await newMachine()) });
    const files = readdirSync(server.dir).filter((f) => f.startsWith('homenode.db'));
    expect(files).toEqual(expect.arrayContaining(['homenode.db', 'homenode.db-wal']));
    const blob = files.map((f) => readFileSync(join(server.dir, f)).toString('latin1')).join('\n');
    expect(blob.length).toBeGreaterThan(10_000);
    // The scan reads real rows: the owner's email and the public key ids are there in clear.
    expect(blob).toContain(owner.email);
    for (const key of keys) expect(blob).toContain(key.slice(3, 7));
    for (const secret of [token, TEST_ADMIN_TOKEN, ...keys]) {
      expect(blob).not.toContain(secret);
      const body = secret.replace(/^HN-/, '');
      expect(blob).not.toContain(body.replaceAll('-', '').slice(4, 19)); // the 15 secret symbols
    }
  });
});
