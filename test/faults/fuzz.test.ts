/**
 * Malformed and random bodies against every route, and random frames against every control message
 * type (fast-check): the server never answers 5xx, never crashes, and its memory stays bounded.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { connectControl, newSimIdentity, signNodeToken, simHello } from '../../scripts/sim/sim-agent.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

const MESSAGE_TYPES = [
  'hello',
  'heartbeat',
  'hardware',
  'usage',
  'result',
  'join-result',
  'bye',
  'shell-data',
  'shell-close',
  'nope',
];

describe('fuzzing', () => {
  let server: TestServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  it('never answers 5xx to random bodies, params and queries on any route', async () => {
    server = await startTestServer({ enrollRateLimit: { perAddress: 1_000_000, perKeyId: 1_000_000 } });
    const owner = await server.createOwner();
    const key = await server.createKey(owner.id);
    const node = (
      await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody(key.key, await newMachine()),
      })
    ).body.nodeId;
    const openapi = (
      await server.api<{ paths: Record<string, Record<string, unknown>> }>('GET', '/openapi.json', {
        token: null,
      })
    ).body;
    const routes = Object.entries(openapi.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => ({ method: m.toUpperCase(), path })),
    );
    expect(routes.length).toBeGreaterThan(30);
    const ids = fc.oneof(
      fc.constant(node),
      fc.constant(owner.id),
      fc.constant(key.id),
      fc.string({ maxLength: 80 }),
      fc.constant('../../etc/passwd'),
    );
    const bodies = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 300 }),
      fc
        .dictionary(
          fc.constantFrom(
            'installationKey',
            'publicKey',
            'hardware',
            'email',
            'name',
            'role',
            'ownerId',
            'start',
            'end',
            'amountUusd',
            'nodeId',
            'type',
            'reason',
            'rates',
            'effectiveFrom',
          ),
          fc.jsonValue({ maxDepth: 3 }),
        )
        .map((v) => JSON.stringify(v)),
    );
    const heapBefore = process.memoryUsage().heapUsed;
    let requests = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...routes),
        ids,
        bodies,
        fc.string({ maxLength: 40 }),
        fc.boolean(),
        async (route, id, body, query, asAdmin) => {
          const path =
            route.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(id)) +
            (query ? `?${encodeURIComponent(query)}=${encodeURIComponent(id)}` : '');
          const res = await server!.api(route.method, path, {
            token: asAdmin ? server!.adminToken : null,
            raw: route.method === 'GET' || route.method === 'DELETE' ? undefined : body,
          });
          requests += 1;
          if (res.status >= 500)
            throw new Error(
              `${route.method} ${path} with ${body.slice(0, 200)} → ${res.status} ${JSON.stringify(res.body)}`,
            );
          if (res.status >= 400 && typeof res.body === 'object' && res.body !== null)
            expect(res.body).toHaveProperty('error.code');
        },
      ),
      { numRuns: 600 },
    );
    expect(requests).toBe(600);
    expect((await server.api('GET', '/healthz', { token: null })).status).toBe(200);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(150 * 1024 ** 2);
  });

  it('answers random frames of every message type with error frames, never crashing', async () => {
    // Abuse closes the session every few frames: let the node reconnect as often as it needs to.
    server = await startTestServer({ control: { nodeConnectBurst: 1000 } });
    const owner = await server.createOwner();
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const nodeId = (
      await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
        token: null,
        body: enrollBody((await server.createKey(owner.id)).key, machine),
      })
    ).body.nodeId;
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    const frame = fc.oneof(
      fc
        .record({ type: fc.constantFrom(...MESSAGE_TYPES) }, { requiredKeys: [] })
        .chain((base) =>
          fc
            .dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }))
            .map((extra) => JSON.stringify({ ...extra, ...base })),
        ),
      fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
      fc.string({ maxLength: 200 }),
      fc.constantFrom(
        '{"type":"usage","seq":1,"report":"a.b.c"}',
        '{"type":"hardware","snapshot":"x.y.z"}',
        '{"type":"result","id":"cmd_x","ok":true}',
        '{"type":"shell-data","sessionId":"s","data":"AAAA"}',
      ),
    );
    let conn = (await connectControl(server.url, await signNodeToken(identity, nodeId))).conn!;
    conn.send(simHello());
    let errors = 0;
    let reconnects = 0;
    await fc.assert(
      fc.asyncProperty(frame, async (text) => {
        if (conn.socket.readyState !== 1) {
          reconnects += 1;
          conn = (await connectControl(server!.url, await signNodeToken(identity, nodeId))).conn!;
        }
        conn.send(text);
      }),
      { numRuns: 500 },
    );
    await conn.sync().catch(() => undefined);
    errors += conn.received.filter((m) => m.type === 'error').length;
    expect(errors + reconnects).toBeGreaterThan(0);
    const metrics = await server.api<string>('GET', '/metrics', { token: null });
    expect(metrics.body).toMatch(/homenode_control_messages_total\{type="invalid"\} \d+/);
    expect((await server.api('GET', `/v1/nodes/${nodeId}`)).status).toBe(200);
    await conn.close(false);
  });
});
