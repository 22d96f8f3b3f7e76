import { afterEach, describe, expect, it } from 'vitest';
import { parseInstallationKey } from '../../protocol/key.js';
import { enrollBody, newMachine, rtx4090Hardware } from '../helpers/enrollment.js';
import { type TestServer, manualClock, startTestServer } from '../helpers/server.js';

type ErrorBody = { error: { code: string; message: string; details?: unknown } };

describe('POST /v1/enroll', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });

  async function setup(options: Parameters<typeof startTestServer>[0] = {}) {
    const server = await startTestServer(options);
    servers.push(server);
    const owner = await server.createOwner();
    return { server, owner };
  }

  it('enrolls a machine as pending and shows it to ops with hardware, preflight and attributes', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const machine = await newMachine();
    const res = await server.api<{ nodeId: string; status: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key, machine),
    });
    expect(res.status).toBe(201);
    expect(res.body.status).toBe('pending');
    expect(res.body.nodeId).toMatch(/^node_[0-9a-z]{20}$/);

    const detail = await server.api<Record<string, unknown>>('GET', `/v1/nodes/${res.body.nodeId}`);
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: res.body.nodeId,
      ownerId: owner.id,
      status: 'pending',
      online: false,
      lastSeenAt: null,
      uptime: { last24h: 0, last7d: 0, upSeconds: 0 },
      metrics: null,
      hardware: { cpu: { arch: 'x86_64' }, gpus: [{ pciId: '10de:2684' }] },
      labels: {
        'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090': '1',
        'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090.ram.24Gi': '1',
        'akash.network/capabilities.gpu.vendor.nvidia.model.rtx4090.interface.pcie': '1',
      },
    });
    expect(detail.body.attributes).toEqual(
      expect.arrayContaining([
        { key: 'capabilities/gpu/vendor/nvidia/model/rtx4090', value: 'true' },
        { key: 'capabilities/gpu/vendor/nvidia/model/rtx4090/ram/24Gi', value: 'true' },
        { key: 'capabilities/gpu/vendor/nvidia/model/rtx4090/interface/pcie', value: 'true' },
        { key: 'capabilities/cpu/arch', value: 'x86-64' },
        { key: 'location-type', value: 'home' },
      ]),
    );
    expect((detail.body.preflight as unknown[]).length).toBeGreaterThan(5);
  });

  it('answers each unusable key with its own code', async () => {
    const clock = manualClock();
    const { server, owner } = await setup({ now: clock.now });
    const machine = await newMachine();

    const unknown = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody('HN-0000-0000-0000-0000-0000', machine),
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.error.code).toBe('KEY_INVALID');

    const revoked = await server.createKey(owner.id);
    expect((await server.api('DELETE', `/v1/keys/${revoked.id}`)).status).toBe(200);
    const r1 = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(revoked.key, machine),
    });
    expect([r1.status, r1.body.error.code]).toEqual([401, 'KEY_REVOKED']);

    const expiring = await server.createKey(owner.id, { ttlHours: 1 });
    clock.advance(61 * 60_000);
    const r2 = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(expiring.key, machine),
    });
    expect([r2.status, r2.body.error.code]).toEqual([401, 'KEY_EXPIRED']);
    expect(r2.body.error.message).toMatch(/expired.*new key/i);

    const once = await server.createKey(owner.id);
    expect(
      (await server.api('POST', '/v1/enroll', { token: null, body: enrollBody(once.key, machine) })).status,
    ).toBe(201);
    const r3 = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(once.key, await newMachine()),
    });
    expect([r3.status, r3.body.error.code]).toEqual([401, 'KEY_USED']);
  });

  it('refuses a typo with a message about re-checking the characters, and a wrong secret as unknown', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const machine = await newMachine();
    const typo = key.slice(0, 8) + (key[8] === 'A' ? 'B' : 'A') + key.slice(9);
    const res = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(typo, machine),
    });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'KEY_INVALID', details: { reason: 'check' } });
    expect(res.body.error.message).toMatch(/typo/i);

    // A well-formed key with the right id but another secret.
    const parsed = parseInstallationKey(key);
    if (!parsed.ok) throw new Error('bad key');
    const other = await server.createKey(owner.id);
    const otherParsed = parseInstallationKey(other.key);
    if (!otherParsed.ok) throw new Error('bad key');
    const { formatInstallationKey } = await import('../../protocol/key.js');
    const forged = formatInstallationKey(parsed.keyId, otherParsed.secret);
    const wrong = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(forged, machine),
    });
    expect([wrong.status, wrong.body.error.code]).toEqual([401, 'KEY_INVALID']);
  });

  it('names the missing or wrong field, refuses malformed JSON, private and non-Ed25519 keys, and big bodies', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const machine = await newMachine();
    const body = enrollBody(key, machine);

    const { fingerprint: _drop, ...withoutFingerprint } = body;
    const missing = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: withoutFingerprint,
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('VALIDATION_FAILED');
    expect(missing.body.error.message).toContain("'fingerprint'");

    const badArch = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: { ...body, hardware: { ...body.hardware, cpu: { ...body.hardware.cpu, cores: 'sixteen' } } },
    });
    expect(badArch.status).toBe(400);
    expect(badArch.body.error.message).toContain('hardware.cpu.cores');

    const malformed = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      raw: '{"installationKey": "HN-',
    });
    expect([malformed.status, malformed.body.error.code]).toEqual([400, 'MALFORMED_JSON']);

    const priv = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: { ...body, publicKey: { ...machine.privateJwk } },
    });
    expect([priv.status, priv.body.error.code]).toEqual([400, 'PRIVATE_KEY_SENT']);

    const rsa = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: { ...body, publicKey: { kty: 'OKP', crv: 'X25519', x: machine.publicKey.x } },
    });
    expect(rsa.status).toBe(400);
    expect(rsa.body.error.message).toContain('publicKey.crv');

    const huge = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: { ...body, padding: 'x'.repeat(1024 * 1024) },
    });
    expect([huge.status, huge.body.error.code]).toEqual([413, 'BODY_TOO_LARGE']);

    // Nothing above consumed the key.
    expect((await server.api('POST', '/v1/enroll', { token: null, body })).status).toBe(201);
  });

  it('refuses an ARM machine with 403 and the failed checks, without using the key', async () => {
    const { server, owner } = await setup();
    const { key, id } = await server.createKey(owner.id);
    const hardware = rtx4090Hardware();
    const arm = await newMachine({
      ...hardware,
      cpu: { ...hardware.cpu, arch: 'aarch64', vendor: 'ARM', model: 'Neoverse-N1' },
    });
    const res = await server.api<
      ErrorBody & { error: { details: { checks: { id: string; status: string; summary: string }[] } } }
    >('POST', '/v1/enroll', { token: null, body: enrollBody(key, arm) });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('HARDWARE_REJECTED');
    expect(res.body.error.details.checks).toEqual([
      expect.objectContaining({ id: 'arch', status: 'fail', summary: expect.stringMatching(/ARM/) }),
    ]);
    const keys = await server.api<{ keys: { id: string; uses: number }[] }>(
      'GET',
      `/v1/keys?ownerId=${owner.id}`,
    );
    expect(keys.body.keys.find((k) => k.id === id)?.uses).toBe(0);
  });

  it('enrolls exactly one of 12 machines racing for a single-use key', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const machines = await Promise.all(Array.from({ length: 12 }, () => newMachine()));
    const results = await Promise.all(
      machines.map((m) =>
        server.api<ErrorBody>('POST', '/v1/enroll', { token: null, body: enrollBody(key, m) }),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401).map((r) => r.body.error.code)).toEqual(
      Array(11).fill('KEY_USED'),
    );
    const nodes = await server.api<{ total: number }>('GET', '/v1/nodes');
    expect(nodes.body.total).toBe(1);
  });

  it('lets a 3-use key enroll three machines and refuses the fourth', async () => {
    const { server, owner } = await setup();
    const { key, id } = await server.createKey(owner.id, { maxUses: 3 });
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await server.api('POST', '/v1/enroll', { token: null, body: enrollBody(key, await newMachine()) }))
          .status,
      ).toBe(201);
    }
    const fourth = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key, await newMachine()),
    });
    expect([fourth.status, fourth.body.error.code]).toEqual([401, 'KEY_USED']);
    const keys = await server.api<{ keys: { id: string; uses: number; state: string }[] }>(
      'GET',
      `/v1/keys?ownerId=${owner.id}`,
    );
    expect(keys.body.keys.find((k) => k.id === id)).toMatchObject({ uses: 3, state: 'used' });
  });

  it('answers a retry whose first answer was lost with the same node (200), not KEY_USED', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id);
    const machine = await newMachine();
    const first = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key, machine),
    });
    const retry = await server.api<{ nodeId: string; existing: boolean }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key, machine),
    });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(200);
    expect(retry.body).toMatchObject({ nodeId: first.body.nodeId, status: 'pending', existing: true });
  });

  it('answers retries of one enrollment sent at the same time with one node (one 201, the rest 200)', async () => {
    const { server, owner } = await setup();
    const { key } = await server.createKey(owner.id, { maxUses: 5 });
    const machine = await newMachine();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        server.api<{ nodeId: string }>('POST', '/v1/enroll', { token: null, body: enrollBody(key, machine) }),
      ),
    );
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(results.map((r) => r.body.nodeId)).size).toBe(1);
    const keys = await server.api<{ keys: { uses: number }[] }>('GET', `/v1/keys?ownerId=${owner.id}`);
    expect(keys.body.keys[0]?.uses).toBe(1);
    expect((await server.api<{ total: number }>('GET', '/v1/nodes')).body.total).toBe(1);
  });

  it('keeps the node id when the same owner re-installs the same machine, and refuses another owner (409)', async () => {
    const { server, owner } = await setup();
    const machine = await newMachine();
    const first = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, machine),
    });
    expect((await server.api('POST', `/v1/nodes/${first.body.nodeId}/approve`, { body: {} })).status).toBe(
      200,
    );

    // Re-install: a fresh identity (new key pair) on the same hardware.
    const reinstalled = { ...(await newMachine(machine.hardware)), fingerprint: machine.fingerprint };
    const again = await server.api<{ nodeId: string; status: string; reinstall: boolean }>(
      'POST',
      '/v1/enroll',
      {
        token: null,
        body: enrollBody((await server.createKey(owner.id)).key, reinstalled),
      },
    );
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ nodeId: first.body.nodeId, status: 'approved', reinstall: true });

    const other = await server.createOwner();
    const stolen = { ...(await newMachine(machine.hardware)), fingerprint: machine.fingerprint };
    const conflict = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(other.id)).key, stolen),
    });
    expect([conflict.status, conflict.body.error.code]).toEqual([409, 'FINGERPRINT_CONFLICT']);
    const detail = await server.api<{ flags: { kind: string }[] }>('GET', `/v1/nodes/${first.body.nodeId}`);
    expect(detail.body.flags).toEqual([expect.objectContaining({ kind: 'fingerprint-conflict' })]);
  });

  it('puts a re-installed machine back to pending when its GPUs changed', async () => {
    const { server, owner } = await setup();
    const machine = await newMachine();
    const first = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, machine),
    });
    await server.api('POST', `/v1/nodes/${first.body.nodeId}/approve`, { body: {} });
    const hw = rtx4090Hardware();
    const swapped = {
      ...(await newMachine({
        ...hw,
        gpus: [{ ...hw.gpus[0]!, pciId: '10de:2204', model: 'rtx3090', name: 'NVIDIA GeForce RTX 3090' }],
      })),
      fingerprint: machine.fingerprint,
    };
    const again = await server.api<{ status: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, swapped),
    });
    expect(again.body.status).toBe('pending');
    const detail = await server.api<{ statusReason: string }>('GET', `/v1/nodes/${first.body.nodeId}`);
    expect(detail.body.statusReason).toMatch(/rtx4090.*rtx3090/);
  });

  it('rate-limits failed attempts per key id and per address with 429 and Retry-After', async () => {
    const clock = manualClock();
    const { server, owner } = await setup({
      now: clock.now,
      enrollRateLimit: { perKeyId: 3, perAddress: 5, windowSeconds: 600 },
    });
    const { key } = await server.createKey(owner.id);
    const parsed = parseInstallationKey(key);
    if (!parsed.ok) throw new Error('bad key');
    const { formatInstallationKey } = await import('../../protocol/key.js');
    const machine = await newMachine();
    const guess = (n: number) => formatInstallationKey(parsed.keyId, String(n).padStart(15, '0'));
    for (let i = 0; i < 3; i += 1) {
      expect(
        (await server.api('POST', '/v1/enroll', { token: null, body: enrollBody(guess(i), machine) })).status,
      ).toBe(401);
    }
    // The key id is now locked, even for the right secret.
    const locked = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(key, machine),
    });
    expect([locked.status, locked.body.error.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(locked.headers.get('retry-after'))).toBe(600);

    // Two more failures on other ids use up the address's allowance of 5.
    for (let i = 0; i < 2; i += 1) {
      await server.api('POST', '/v1/enroll', {
        token: null,
        body: enrollBody(`HN-${'ZZZ'}${i}-0000-0000-0000-000${i}`, machine),
      });
    }
    const other = await server.createKey(owner.id);
    const byAddress = await server.api<ErrorBody>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody(other.key, machine),
    });
    expect(byAddress.status).toBe(429);
    clock.advance(601_000);
    expect(
      (await server.api('POST', '/v1/enroll', { token: null, body: enrollBody(key, machine) })).status,
    ).toBe(201);
  });

  it('auto-approves when the policy says so', async () => {
    const { server, owner } = await setup({ policy: { autoApprove: true } });
    const res = await server.api<{ status: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, await newMachine()),
    });
    expect([res.status, res.body.status]).toEqual([201, 'approved']);
  });
});
