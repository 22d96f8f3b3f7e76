/**
 * Artifacts on the real server (DESIGN.md "Software on the node"): uploads are stored by SHA-256 in
 * the data folder and signed by the release key (checked here with jose and the published key),
 * versions never change (409), downloads serve byte ranges, and only ops and approved nodes (with
 * their own JWT, once) may download.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, exportJWK, generateKeyPair, importJWK } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { ARTIFACT_SIGNATURE_TYPE } from '../../protocol/artifacts.js';
import { CONTROL_AUDIENCE } from '../../protocol/control.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { download, enrolledNode, randomFile, sha256, upload } from './artifact-support.js';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function setup(options: Parameters<typeof startTestServer>[0] = {}) {
  const server = await startTestServer(options);
  servers.push(server);
  return server;
}

describe('artifact uploads', () => {
  it('stores the bytes by SHA-256, signs them with the published release key, and lists them', async () => {
    const server = await setup();
    const bytes = randomFile(300_000);
    const res = await upload(server, 'k3s', 'v1.31.4+k3s1', bytes);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'k3s',
      version: 'v1.31.4+k3s1',
      sha256: sha256(bytes),
      size: bytes.length,
      url: '/v1/artifacts/k3s/v1.31.4%2Bk3s1',
    });

    // The signature verifies with the key anyone can fetch, and signs exactly these four fields.
    const published = await server.api<{ publicKey: { kty: string; crv: string; x: string; kid: string } }>(
      'GET',
      '/v1/release-key',
      { token: null },
    );
    expect(published.status).toBe(200);
    expect(published.body.publicKey).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    const verified = await compactVerify(
      String(res.body.signature),
      await importJWK(published.body.publicKey, 'EdDSA'),
    );
    expect(verified.protectedHeader).toMatchObject({
      alg: 'EdDSA',
      typ: ARTIFACT_SIGNATURE_TYPE,
      kid: published.body.publicKey.kid,
    });
    expect(JSON.parse(new TextDecoder().decode(verified.payload))).toEqual({
      name: 'k3s',
      version: 'v1.31.4+k3s1',
      sha256: sha256(bytes),
      size: bytes.length,
    });

    // On disk: content-addressed, nothing left in the incoming folder, the release key at 0600.
    const blob = join(server.dir, 'artifacts', 'sha256', sha256(bytes));
    expect(statSync(blob).size).toBe(bytes.length);
    expect(readdirSync(join(server.dir, 'artifacts', 'incoming'))).toEqual([]);
    expect(statSync(join(server.dir, 'release-key.json')).mode & 0o777).toBe(0o600);

    await upload(server, 'homenode-iso', '2026.12.1', randomFile(1000));
    const list = await server.api<{ artifacts: { name: string; version: string }[] }>('GET', '/v1/artifacts');
    expect(list.body.artifacts.map((a) => `${a.name} ${a.version}`)).toEqual([
      'homenode-iso 2026.12.1',
      'k3s v1.31.4+k3s1',
    ]);
    const k3sOnly = await server.api<{ artifacts: unknown[] }>('GET', '/v1/artifacts?name=k3s');
    expect(k3sOnly.body.artifacts).toHaveLength(1);
    const activity = await server.api<{ entries: { action: string; targetId: string }[] }>(
      'GET',
      '/v1/audit',
    );
    expect(activity.body.entries).toContainEqual(
      expect.objectContaining({ action: 'artifact.uploaded', targetId: 'k3s@v1.31.4+k3s1' }),
    );
  });

  it('never changes a version once stored: a second upload is 409 and the first bytes stay', async () => {
    const server = await setup();
    const first = randomFile(5000);
    expect((await upload(server, 'k3s', 'v1.30.0+k3s1', first)).status).toBe(201);
    const again = await upload(server, 'k3s', 'v1.30.0+k3s1', randomFile(5000));
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'ARTIFACT_EXISTS' });
    expect(again.body.error?.message).toMatch(/new version/);
    const got = await download(`${server.url}/v1/artifacts/k3s/v1.30.0%2Bk3s1`, server.adminToken);
    expect(sha256(got.bytes)).toBe(sha256(first));
    // Only the first file's bytes are stored.
    expect(readdirSync(join(server.dir, 'artifacts', 'sha256'))).toEqual([sha256(first)]);
  });

  it('refuses bad names, wrong content types, empty and oversized bodies, leaving nothing behind', async () => {
    const server = await setup({ artifacts: { maxBytes: 64 * 1024 } });
    expect((await upload(server, 'K3S', 'v1', randomFile(10))).status).toBe(400);
    expect((await upload(server, 'k3s', 'v1\nx', randomFile(10))).status).toBe(400);
    expect((await upload(server, '../etc', 'v1', randomFile(10))).status).toBe(400);
    const wrongType = await upload(server, 'k3s', 'v1', randomFile(10), { contentType: 'text/plain' });
    expect([wrongType.status, wrongType.body.error?.code]).toEqual([415, 'UNSUPPORTED_MEDIA_TYPE']);
    expect(wrongType.body.error?.message).toMatch(/application\/octet-stream/);
    const empty = await upload(server, 'k3s', 'v1', Buffer.alloc(0));
    expect(empty.status).toBe(400);
    const big = await upload(server, 'k3s', 'v1', randomFile(64 * 1024 + 1));
    expect([big.status, big.body.error?.code]).toEqual([413, 'BODY_TOO_LARGE']);
    expect(big.body.error?.message).toMatch(/HOMENODE_ARTIFACT_MAX_BYTES/);
    expect(readdirSync(join(server.dir, 'artifacts', 'sha256'))).toEqual([]);
    expect(readdirSync(join(server.dir, 'artifacts', 'incoming'))).toEqual([]);
    expect((await server.api<{ artifacts: unknown[] }>('GET', '/v1/artifacts')).body.artifacts).toEqual([]);
  });

  it('refuses anonymous callers (401) and roles other than ops (403)', async () => {
    const server = await setup();
    const owner = await server.createOwner();
    const ownerToken = await server.tokenFor('owner', owner.id);
    const reviewer = await server.tokenFor('reviewer');
    const ops = await server.tokenFor('ops');
    expect((await upload(server, 'k3s', 'v1', randomFile(10), { token: null })).status).toBe(401);
    expect((await upload(server, 'k3s', 'v1', randomFile(10), { token: ownerToken })).status).toBe(403);
    expect((await upload(server, 'k3s', 'v1', randomFile(10), { token: reviewer })).status).toBe(403);
    expect((await upload(server, 'k3s', 'v1', randomFile(10), { token: ops })).status).toBe(201);
    expect((await server.api('GET', '/v1/artifacts', { token: null })).status).toBe(401);
    expect((await server.api('GET', '/v1/artifacts', { token: ownerToken })).status).toBe(403);
    expect((await server.api('GET', '/v1/artifacts', { token: ops })).status).toBe(200);
  });
});

describe('artifact downloads', () => {
  it('serves byte ranges, so an interrupted download resumes where it stopped', async () => {
    const server = await setup();
    const bytes = randomFile(100_000);
    await upload(server, 'k3s', 'v1.31.4+k3s1', bytes);
    const url = `${server.url}/v1/artifacts/k3s/v1.31.4%2Bk3s1`;
    const whole = await download(url, server.adminToken);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('etag')).toBe(`"${sha256(bytes)}"`);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(whole.headers.get('content-length')).toBe(String(bytes.length));
    expect(whole.headers.get('content-disposition')).toBe('attachment; filename="k3s-v1.31.4+k3s1"');
    expect(whole.bytes.equals(bytes)).toBe(true);

    // The first 40 000 bytes arrived; the rest is asked for with Range and If-Range.
    const rest = await download(url, server.adminToken, {
      range: 'bytes=40000-',
      'if-range': `"${sha256(bytes)}"`,
    });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes 40000-99999/${bytes.length}`);
    expect(Buffer.concat([bytes.subarray(0, 40_000), rest.bytes]).equals(bytes)).toBe(true);

    const middle = await download(url, server.adminToken, { range: 'bytes=10-19' });
    expect([middle.status, middle.bytes.equals(bytes.subarray(10, 20))]).toEqual([206, true]);
    const tail = await download(url, server.adminToken, { range: 'bytes=-5' });
    expect(tail.bytes.equals(bytes.subarray(-5))).toBe(true);
    // Other bytes than the client has: the whole file, not a part that would not fit.
    const changed = await download(url, server.adminToken, { range: 'bytes=10-', 'if-range': '"other"' });
    expect([changed.status, changed.bytes.length]).toEqual([200, bytes.length]);
    const past = await download(url, server.adminToken, { range: 'bytes=100000-' });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    expect(past.json?.error.code).toBe('RANGE_NOT_SATISFIABLE');
    const cached = await download(url, server.adminToken, { 'if-none-match': `"${sha256(bytes)}"` });
    expect([cached.status, cached.bytes.length]).toEqual([304, 0]);
    const head = await download(url, server.adminToken, {}, 'HEAD');
    expect([head.status, head.headers.get('content-length'), head.bytes.length]).toEqual([
      200,
      String(bytes.length),
      0,
    ]);
    const missing = await download(`${server.url}/v1/artifacts/k3s/v9`, server.adminToken);
    expect(missing.status).toBe(404);
  });

  it('lets an approved node download with its own JWT, once per token; refuses others', async () => {
    const server = await setup();
    const bytes = randomFile(2000);
    await upload(server, 'k3s', 'v1.31.4+k3s1', bytes);
    const url = `${server.url}/v1/artifacts/k3s/v1.31.4%2Bk3s1`;

    expect((await download(url, null)).status).toBe(401);
    const pending = await enrolledNode(server);
    const refused = await download(url, await pending.token());
    expect([refused.status, refused.json?.error.code]).toEqual([403, 'NODE_NOT_APPROVED']);
    expect(refused.json?.error.message).toMatch(/pending: it may download software once/);

    const approved = await enrolledNode(server, { approve: true });
    const token = await approved.token();
    const ok = await download(url, token);
    expect([ok.status, ok.bytes.equals(bytes)]).toEqual([200, true]);
    const replayed = await download(url, token);
    expect(replayed.status).toBe(401);
    expect(replayed.json?.error.message).toMatch(/already used/);
    // A control-channel token is for the control channel only.
    const control = await download(url, await approved.token(CONTROL_AUDIENCE));
    expect(control.status).toBe(401);

    await server.api('POST', `/v1/nodes/${approved.nodeId}/revoke`, { body: { reason: 'stolen' } });
    const revoked = await download(url, await approved.token());
    expect([revoked.status, revoked.json?.error.code]).toEqual([403, 'NODE_REVOKED']);

    const owner = await server.createOwner();
    const ownerToken = await server.tokenFor('owner', owner.id);
    expect((await download(url, ownerToken)).status).toBe(403);
    expect((await download(`${server.url}/v1/artifacts/k3s/v9`, ownerToken)).status).toBe(403);
    expect((await download(url, 'hn_not-a-real-token-at-all-0123456789')).status).toBe(401);
  });
});

describe('the release key', () => {
  it('is kept across restarts, and is refused when other users can read its file', async () => {
    const server = await setup();
    const before = (await server.api<{ publicKey: { x: string } }>('GET', '/v1/release-key')).body.publicKey
      .x;
    await server.close({ keepFiles: true });
    servers = [];
    const again = await setup({ dbPath: server.dbPath });
    const after = (await again.api<{ publicKey: { x: string } }>('GET', '/v1/release-key')).body.publicKey.x;
    expect(after).toBe(before);

    // HOMENODE_RELEASE_KEY_FILE: the operator's key is the one published.
    const dir = mkdtempSync(join(tmpdir(), 'homenode-release-'));
    const file = join(dir, 'release.jwk');
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    writeFileSync(file, JSON.stringify(jwk), { mode: 0o600 });
    const given = await setup({ artifacts: { releaseKeyFile: file } });
    expect((await given.api<{ publicKey: { x: string } }>('GET', '/v1/release-key')).body.publicKey.x).toBe(
      jwk.x,
    );
    await given.close();
    servers = servers.filter((s) => s !== given);

    chmodSync(file, 0o644);
    await expect(startTestServer({ artifacts: { releaseKeyFile: file } })).rejects.toThrow(
      /HOMENODE_RELEASE_KEY_FILE .*release\.jwk can be read by other users \(mode 644\); run chmod 600/,
    );
    await expect(
      startTestServer({ artifacts: { releaseKeyFile: join(dir, 'missing.jwk') } }),
    ).rejects.toThrow(/HOMENODE_RELEASE_KEY_FILE .*missing\.jwk does not exist/);
    rmSync(dir, { recursive: true, force: true });
  });
});
