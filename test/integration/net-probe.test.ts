/**
 * The network probe the audit's `network` check measures against: node JWT only (fresh each time,
 * replay refused, refused nodes 403), exact byte counts both ways, the caps and the per-node rate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  NET_PROBE_MAX_DOWNLOAD_BYTES,
  NET_PROBE_MAX_REQUESTS_PER_MINUTE,
  NET_PROBE_MAX_UPLOAD_BYTES,
  NET_PROBE_PATH,
} from '../../protocol/audit.js';
import { signNodeToken } from '../../scripts/sim/sim-agent.js';
import { auditSetup } from './audit-sim-support.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup() {
  const s = await auditSetup();
  cleanup.push(() => s.server.close());
  const n = await s.node({ connect: false });
  const token = (jti?: string) =>
    signNodeToken(n.identity, n.nodeId, {
      skewSeconds: Math.round((s.clock.now() - Date.now()) / 1000),
      jti,
    });
  const probe = async (
    init: {
      method?: string;
      query?: string;
      body?: Buffer;
      token?: string | null;
      headers?: Record<string, string>;
    } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers };
    const jwt = init.token === undefined ? await token() : init.token;
    if (jwt) headers.authorization = `Bearer ${jwt}`;
    if (init.body) headers['content-type'] = 'application/octet-stream';
    const res = await fetch(`${s.server.url}${NET_PROBE_PATH}${init.query ?? ''}`, {
      method: init.method ?? 'GET',
      headers,
      body: init.body ? new Uint8Array(init.body) : undefined,
    });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  };
  return { s, n, token, probe };
}

const json = (b: Buffer) =>
  JSON.parse(b.toString('utf8')) as Record<string, unknown> & { error?: { code: string; message: string } };

describe('the network probe', () => {
  it('sends exactly the bytes asked for, counts uploads, and refuses what is over its caps', async () => {
    const { probe } = await setup();
    const down = await probe({ query: '?bytes=1000000' });
    expect(down.status).toBe(200);
    expect(down.bytes.length).toBe(1_000_000);
    expect(down.headers.get('content-type')).toBe('application/octet-stream');
    expect(down.headers.get('cache-control')).toBe('no-store');
    // Random bytes: nothing on the way can compress them.
    expect(new Set(down.bytes.subarray(0, 4096)).size).toBeGreaterThan(200);
    expect((await probe({ query: '?bytes=0' })).bytes.length).toBe(0);
    const tooMuch = await probe({ query: `?bytes=${NET_PROBE_MAX_DOWNLOAD_BYTES + 1}` });
    expect([tooMuch.status, json(tooMuch.bytes).error?.code]).toEqual([400, 'VALIDATION_FAILED']);

    const up = await probe({ method: 'POST', body: Buffer.alloc(5 * 1024 * 1024, 7) });
    expect([up.status, json(up.bytes)]).toEqual([200, { bytes: 5 * 1024 * 1024 }]);
    const big = await probe({ method: 'POST', body: Buffer.alloc(NET_PROBE_MAX_UPLOAD_BYTES + 1) });
    expect([big.status, json(big.bytes).error]).toEqual([
      413,
      {
        code: 'BODY_TOO_LARGE',
        message: `The network probe accepts at most ${NET_PROBE_MAX_UPLOAD_BYTES} bytes per upload.`,
      },
    ]);
  });

  it('needs a fresh node JWT: none, a replayed one or a person’s API token is 401; a revoked node 403', async () => {
    const { s, n, token, probe } = await setup();
    expect((await probe({ token: null })).status).toBe(401);
    expect((await probe({ token: s.server.adminToken })).status).toBe(401);
    const once = await token('probe-jti-0001');
    expect((await probe({ query: '?bytes=1', token: once })).status).toBe(200);
    const replayed = await probe({ query: '?bytes=1', token: once });
    expect([replayed.status, json(replayed.bytes).error?.message]).toEqual([
      401,
      'This node token was already used. Each connection needs a new token.',
    ]);
    await s.server.api('POST', `/v1/nodes/${n.nodeId}/revoke`, { body: { reason: 'test' } });
    const revoked = await probe({ query: '?bytes=1' });
    expect([revoked.status, json(revoked.bytes).error?.message]).toEqual([
      403,
      'This machine was revoked; it may not use the network probe.',
    ]);
  });

  it(`allows ${NET_PROBE_MAX_REQUESTS_PER_MINUTE} requests a minute per node, then 429 with Retry-After`, async () => {
    const { s, probe } = await setup();
    for (let i = 0; i < NET_PROBE_MAX_REQUESTS_PER_MINUTE; i += 1)
      expect((await probe({ query: '?bytes=1' })).status).toBe(200);
    const limited = await probe({ query: '?bytes=1' });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('60');
    s.clock.advance(60_000);
    expect((await probe({ query: '?bytes=1' })).status).toBe(200);
  });
});
