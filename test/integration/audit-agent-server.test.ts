/**
 * Continuous audits end to end: the real agent daemon against the real server over real
 * WebSockets, the server's own scheduler asking for the audits, real fio and sysbench behind
 * stand-ins for nvidia-smi, dmesg and k3s. The GPU stand-in can lose its GPU between audits
 * (`bin-audit-switch`: the file $HOMENODE_STANDIN_GPU_MODE says `rtx4090` or `nodevices`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitForAudit } from '../helpers/audits.js';
import { FIXTURES } from './agent-support.js';
import { type DaemonSetup, setupDaemon } from './agent-daemon-support.js';
import { FAST_AUDIT_POLICY, requireTools } from './audit-support.js';

type ErrorBody = { error: { code: string; message: string } };
type Check = { id: string; status: string; metrics: Record<string, number> };
type AuditList = {
  audits: { id: string; trigger: string; status: string; diagnosticsId: string | null; checks: Check[] }[];
};
type NodeAudit = { state: string; lastAuditId: string | null; lastPassedAt: string | null };

const SWITCH = join(FIXTURES, 'bin-audit-switch');
/** Real benchmarks on a shared machine: generous. */
const AUDIT_MS = 150_000;

let setups: DaemonSetup[] = [];
afterEach(async () => {
  for (const s of setups) await s.cleanup();
  setups = [];
});
beforeAll(() => requireTools({ fio: 'fio', sysbench: 'sysbench' }));

async function setup() {
  const s = await setupDaemon({ server: { policy: FAST_AUDIT_POLICY, auditTickMs: 250 } });
  setups.push(s);
  const gpuMode = join(s.dir, 'gpu-mode');
  writeFileSync(gpuMode, 'rtx4090\n');
  const ownerId = (await s.server.api<{ ownerId: string }>('GET', `/v1/nodes/${s.nodeId}`)).body.ownerId;
  return {
    ...s,
    ownerId,
    ownerToken: await s.server.tokenFor('owner', ownerId),
    setGpu: (mode: 'rtx4090' | 'nodevices') => writeFileSync(gpuMode, `${mode}\n`),
    run: () => s.start({ HOMENODE_STANDIN_GPU_MODE: gpuMode }, [SWITCH]),
    audits: async (token?: string) =>
      (await s.server.api<AuditList>('GET', `/v1/nodes/${s.nodeId}/audits`, token ? { token } : {})).body,
    auditState: async (token?: string) =>
      (await s.server.api<{ audit: NodeAudit }>('GET', `/v1/nodes/${s.nodeId}`, token ? { token } : {})).body
        .audit,
  };
}

/** The newest audit once the scheduler has created one with this trigger. */
async function newest(s: Awaited<ReturnType<typeof setup>>, trigger: string): Promise<string> {
  let id = '';
  await expect
    .poll(
      async () => {
        id = (await s.audits()).audits.find((a) => a.trigger === trigger)?.id ?? '';
        return id;
      },
      { timeout: 30_000, interval: 100 },
    )
    .not.toBe('');
  return id;
}

describe('audits of a real node', () => {
  it('audits after the join, fails when the GPU vanishes (fix, guide, diagnostics), and passes again on the owner\'s "check again"', async () => {
    const s = await setup();
    const agent = s.run();
    await s.server.api('POST', `/v1/nodes/${s.nodeId}/approve`, { body: {} });
    await expect.poll(async () => (await s.node()).status, { timeout: 30_000 }).toBe('active');

    // The first audit follows the join, asked for by the server's scheduler.
    const joinAudit = await waitForAudit(s.server, s.nodeId, await newest(s, 'join'), AUDIT_MS);
    expect(joinAudit.status).toBe('passed');
    const first = (await s.audits()).audits.find((a) => a.id === joinAudit.id);
    const cpu = first?.checks.find((c) => c.id === 'cpu');
    expect(cpu?.metrics.cpuEventsPerSec).toBeGreaterThan(0);
    expect(first?.checks.find((c) => c.id === 'disk')?.metrics.diskRandReadIops).toBeGreaterThan(0);
    expect(first?.checks.find((c) => c.id === 'gpu')?.status).toBe('pass');
    await agent.waitFor(`Audit ${joinAudit.id} passed.`, 20_000);
    expect(await s.auditState(s.ownerToken)).toMatchObject({ state: 'passing', lastAuditId: joinAudit.id });

    // The GPU falls off the bus; ops ask for an audit.
    s.setGpu('nodevices');
    const ops = await s.server.tokenFor('ops');
    const asked = await s.server.api<{ id: string }>('POST', `/v1/nodes/${s.nodeId}/audits`, { token: ops });
    expect(asked.status).toBe(202);
    const failed = await waitForAudit(s.server, s.nodeId, asked.body.id, AUDIT_MS);
    expect(failed.status).toBe('failed');
    const gpu = failed.checks.find((c) => c.id === 'gpu');
    expect(gpu?.status).toBe('fail');
    expect(gpu?.summary).toMatch(/GPU/);
    expect(gpu?.fix.length).toBeGreaterThan(20);
    expect(gpu?.docUrl).toMatch(/^http:\/\/127\.0\.0\.1(:\d+)?\/docs\/troubleshooting#gpu$/);

    // The owner sees it on their machine, with the diagnostics bundle attached.
    expect(await s.auditState(s.ownerToken)).toMatchObject({ state: 'failing', lastAuditId: failed.id });
    let diagnosticsId: string | null = null;
    await expect
      .poll(
        async () => {
          diagnosticsId =
            (await s.audits(s.ownerToken)).audits.find((a) => a.id === failed.id)?.diagnosticsId ?? null;
          return diagnosticsId;
        },
        { timeout: 60_000, interval: 200 },
      )
      .toMatch(/^cmd_/);
    const bundle = await fetch(`${s.server.url}/v1/nodes/${s.nodeId}/audits/${failed.id}/diagnostics`, {
      headers: { authorization: `Bearer ${s.ownerToken}` },
    });
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-disposition')).toContain(`${failed.id}-diagnostics.txt`);
    expect((await bundle.text()).length).toBeGreaterThan(100);

    // Nobody else: a reviewer cannot trigger, another owner does not see the machine.
    const reviewer = await s.server.tokenFor('reviewer');
    const byReviewer = await s.server.api<ErrorBody>('POST', `/v1/nodes/${s.nodeId}/audits`, {
      token: reviewer,
    });
    expect(byReviewer.status).toBe(403);
    const other = await s.server.tokenFor('owner', (await s.server.createOwner()).id);
    expect((await s.server.api('GET', `/v1/nodes/${s.nodeId}/audits`, { token: other })).status).toBe(404);
    expect((await s.server.api('POST', `/v1/nodes/${s.nodeId}/audits`, { token: other })).status).toBe(404);

    // The owner reseats the GPU and presses "Check again"; a second press at once is refused.
    s.setGpu('rtx4090');
    const again = await s.server.api<{ id: string }>('POST', `/v1/nodes/${s.nodeId}/audits`, {
      token: s.ownerToken,
    });
    expect(again.status).toBe(202);
    const twice = await s.server.api<ErrorBody>('POST', `/v1/nodes/${s.nodeId}/audits`, {
      token: s.ownerToken,
    });
    expect(twice.status).toBe(429);
    expect(Number(twice.headers.get('retry-after'))).toBeGreaterThan(500);
    const passed = await waitForAudit(s.server, s.nodeId, again.body.id, AUDIT_MS);
    expect(passed.status).toBe('passed');
    expect(await s.auditState(s.ownerToken)).toMatchObject({ state: 'passing', lastAuditId: passed.id });
    expect((await s.audits(s.ownerToken)).audits.map((a) => [a.trigger, a.status]).slice(0, 3)).toEqual([
      ['owner', 'passed'],
      ['ops', 'failed'],
      ['join', 'passed'],
    ]);
  }, 480_000);
});
