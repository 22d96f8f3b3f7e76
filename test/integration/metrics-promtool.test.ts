/**
 * `/metrics` as Prometheus reads it: after traffic that gives every metric family samples, the real
 * `promtool check metrics` (Debian package `prometheus`) finds nothing to complain about.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectControl,
  newSimIdentity,
  signNodeToken,
  signPayload,
  simHello,
  simMetrics,
} from '../../scripts/sim/sim-agent.js';
import { enrollBody, newMachine } from '../helpers/enrollment.js';
import { type TestServer, startTestServer } from '../helpers/server.js';

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** The real promtool, or a failure at once that names the Debian package. */
function promtool(args: string[], input: string) {
  const result = spawnSync('promtool', args, { input, encoding: 'utf8', timeout: 30_000 });
  if (result.error) {
    throw new Error(
      `promtool could not run (${result.error.message}): apt-get install -y prometheus (Debian package prometheus)`,
    );
  }
  return result;
}

/** Families (`# TYPE` lines) that have no sample line. */
function familiesWithoutSamples(text: string): string[] {
  const lines = text.split('\n');
  return lines
    .filter((l) => l.startsWith('# TYPE '))
    .map((l) => l.split(' ')[2] ?? '')
    .filter(
      (name) =>
        !lines.some((l) => !l.startsWith('#') && new RegExp(`^${name}(_bucket|_sum|_count)?[ {]`).test(l)),
    );
}

describe('Prometheus metrics', () => {
  it('pass promtool check metrics with every family sampled', async () => {
    const server = await startTestServer();
    servers.push(server);
    // Traffic for every family: an enrollment and a refused one, a node's session with a heartbeat
    // and a stored usage report, a refused node connection.
    const owner = await server.createOwner();
    const identity = await newSimIdentity();
    const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
    const enrolled = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(owner.id)).key, machine),
    });
    const { nodeId } = enrolled.body;
    await server.api('POST', '/v1/enroll', { token: null, body: { installationKey: 'nope' } });
    await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    const refused = await connectControl(server.url, 'not-a-jwt');
    expect(refused.refused?.status).toBe(401);
    const { conn } = await connectControl(server.url, await signNodeToken(identity, nodeId));
    if (!conn) throw new Error('the node was refused');
    conn.send(simHello());
    await conn.next('welcome');
    conn.send({ type: 'heartbeat', seq: 1, metrics: simMetrics() });
    const to = Date.now() - 1000;
    const report = {
      nodeId,
      seq: 1,
      from: new Date(to - 60_000).toISOString(),
      to: new Date(to).toISOString(),
      workloads: [],
    };
    conn.send({ type: 'usage', seq: 1, report: await signPayload(identity, report) });
    await conn.next('ack');
    // Garbage, so that the GC histogram has observed a collection.
    let kept = 0;
    for (let i = 0; i < 200; i += 1) kept += Array.from({ length: 10_000 }, (_, k) => k).length;
    expect(kept).toBe(2_000_000);

    let text = '';
    await expect
      .poll(
        async () => {
          text = await (await fetch(`${server.url}/metrics`)).text();
          return familiesWithoutSamples(text);
        },
        { timeout: 15_000, interval: 200 },
      )
      .toEqual([]);
    await conn.close(true);
    expect(text).toContain('homenode_usage_reports_stored_total 1');
    expect(text).toMatch(/homenode_control_auth_failures_total\{code="[A-Z_]+"\} 1/);

    const check = promtool(['check', 'metrics'], text);
    expect({ status: check.status, stdout: check.stdout, stderr: check.stderr }).toEqual({
      status: 0,
      stdout: '',
      stderr: '',
    });
  });
});
