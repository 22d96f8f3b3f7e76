/**
 * `npm run bench -- enroll [--count N] [--concurrency C] [--json]`: enrollments per second and
 * latency against the real server process (real Ed25519 keys, real SQLite, real HTTP on loopback),
 * with GET /healthz at the same concurrency as the in-process baseline.
 */
import { createHash, randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import type { EnrollRequest } from '../../protocol/api.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import { simHardware } from './fleet.js';
import { startServerProcess } from './server-process.js';
import { percentile, round, runConcurrently } from './stats.js';

export interface EnrollBenchOptions {
  count: number;
  concurrency: number;
  log: (line: string) => void;
}

export async function benchEnroll({
  count,
  concurrency,
  log,
}: EnrollBenchOptions): Promise<Record<string, number>> {
  const server = await startServerProcess({
    HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS: '1000000',
    HOMENODE_ENROLL_MAX_FAILURES_PER_KEY: '1000000',
  });
  try {
    const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
    const post = async (path: string, body: unknown) => {
      const res = await fetch(server.url + path, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify(body),
      });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as Record<string, string>;
    };
    const owner = await post('/v1/owners', { email: `bench-${Date.now()}@example.com`, name: 'Bench' });
    const keys: string[] = [];
    for (let i = 0; i < Math.ceil(count / 1000); i += 1)
      keys.push((await post('/v1/keys', { ownerId: owner.id, maxUses: 1000 })).key!);

    log(`preparing ${count} machines (Ed25519 key pairs)…`);
    const policy = resolvePolicy();
    const bodies: string[] = [];
    for (let i = 0; i < count; i += 1) {
      const { publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
      const jwk = await exportJWK(publicKey);
      const hw = simHardware(i);
      const body: EnrollRequest = {
        installationKey: keys[Math.floor(i / 1000)]!,
        publicKey: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) },
        fingerprint: createHash('sha256').update(randomBytes(16)).digest('hex'),
        hardware: hw,
        preflight: assessHardware(hw, policy),
        agentVersion: '0.1.0',
      };
      bodies.push(JSON.stringify(body));
    }

    log(`baseline: ${count} × GET /healthz, concurrency ${concurrency}…`);
    const base = await runConcurrently(
      count,
      concurrency,
      async () => (await fetch(`${server.url}/healthz`)).ok,
    );

    log(`enroll: ${count} × POST /v1/enroll, concurrency ${concurrency}…`);
    const cpu0 = server.cpuSeconds();
    const run = await runConcurrently(count, concurrency, async (i) => {
      const res = await fetch(`${server.url}/v1/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: bodies[i],
      });
      await res.arrayBuffer();
      return res.status === 201;
    });
    const cpu = server.cpuSeconds() - cpu0;
    const figures = {
      enrollments: count,
      serverOnOwnCore: server.pinned ? 1 : 0,
      concurrency,
      failed: run.failures,
      enrollPerSecond: round(count / run.seconds),
      p50Ms: round(percentile(run.latenciesMs, 50), 2),
      p99Ms: round(percentile(run.latenciesMs, 99), 2),
      maxMs: round(percentile(run.latenciesMs, 100), 2),
      healthzPerSecond: round(count / base.seconds),
      healthzP99Ms: round(percentile(base.latenciesMs, 99), 2),
      ratioEnrollToHealthz: round(count / run.seconds / (count / base.seconds), 3),
      serverCpuPct: round((cpu / run.seconds) * 100),
      serverPeakRssMiB: round(server.peakRssMiB()),
    };
    return figures;
  } finally {
    await server.stop();
    server.cleanup();
  }
}
