/**
 * The audit scheduler on the real server, driven tick by tick on a clock the test moves, with
 * simulated nodes: the fleet-wide cap (also across a restart: running audits count until their
 * deadline), the routine schedule and the retry ladder, offline nodes, busy nodes, refused and
 * misdirected reports, a hardware snapshot with less than was approved, and a revoke.
 */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { signPayload } from '../../scripts/sim/sim-agent.js';
import { simAuditReport } from '../../scripts/sim/sim-audit.js';
import { HOUR, MIN, type SimNode, auditSetup, waitFor } from './audit-sim-support.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(options: Parameters<typeof auditSetup>[0] = {}) {
  const s = await auditSetup(options);
  cleanup.push(() => s.server.close());
  return s;
}

describe('the fleet-wide cap', () => {
  it('never runs more than maxConcurrent audits, and the running ones still count after a restart', async () => {
    const s = await setup({ policy: { audit: { maxConcurrent: 2 } } });
    const nodes: SimNode[] = [];
    for (let i = 0; i < 5; i += 1) nodes.push(await s.node({ join: true }));
    const started = async () => {
      const counts = await Promise.all(nodes.map(async (n) => (await s.audits(n.nodeId)).audits));
      return counts.flat().filter((a) => a.status === 'running');
    };
    expect(await s.tick()).toMatchObject({ queued: 5, started: 2 });
    expect(await s.running()).toBe(2);
    expect(await s.tick()).toMatchObject({ started: 0 });
    const first = (await started())[0]!;
    const owner = nodes.find((n) => n.nodeId === first.nodeId)!;
    await owner.answer('pass');
    await s.settled(owner.nodeId, first.id);
    expect(await s.tick()).toMatchObject({ started: 1 });
    expect(await s.running()).toBe(2);

    // The server stops while two audits run; after a restart they still hold their slots.
    const { dbPath, port } = s.server;
    cleanup.pop();
    await s.server.close({ keepFiles: true });
    const again = await auditSetup({
      dbPath,
      port,
      start: s.clock.now(),
      policy: { audit: { maxConcurrent: 2 } },
    });
    cleanup.push(async () => {
      await again.server.close();
      rmSync(again.server.dir, { recursive: true, force: true });
    });
    for (const n of nodes) await again.connect(n.nodeId, n.identity);
    expect(await again.tick()).toMatchObject({ expired: 0, started: 0 });
    expect(await again.running()).toBe(2);
    // No report comes: at the deadline (the suite's 5 minutes + 2) they end as errors and free their slots.
    again.clock.advance(7 * MIN + 1);
    expect(await again.tick()).toMatchObject({ expired: 2, started: 2 });
    const ended = (await Promise.all(nodes.map(async (n) => (await again.audits(n.nodeId)).audits)))
      .flat()
      .filter((a) => a.status === 'error');
    expect(ended.map((a) => a.error)).toEqual([
      'The machine did not send its report within 8 minutes; it is asked again later.',
      'The machine did not send its report within 8 minutes; it is asked again later.',
    ]);
    expect(await again.running()).toBe(2);
  });
});

describe('when nodes are audited', () => {
  it('after the join, then daily; after a failure on the ladder (30 min, 1 h), then daily again', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    await s.tick();
    const join = await n.answer('pass');
    await s.settled(n.nodeId, join.auditId);
    expect(join.gpus).toBeUndefined(); // the test GPU has no nvidia-smi UUID; the agent then keeps its own list

    s.clock.advance(24 * HOUR - MIN);
    expect(await s.tick()).toMatchObject({ queued: 0, started: 0 });
    s.clock.advance(MIN);
    expect(await s.tick()).toMatchObject({ queued: 1, started: 1 });
    const routine = await n.answer('fail');
    const failed = await s.settled(n.nodeId, routine.auditId);
    expect([failed.trigger, failed.status]).toEqual(['schedule', 'failed']);

    for (const wait of [30, 60]) {
      s.clock.advance(wait * MIN - 1000);
      expect(await s.tick()).toMatchObject({ started: 0 });
      s.clock.advance(1000);
      expect(await s.tick()).toMatchObject({ started: 1 });
      const retry = await n.answer(wait === 30 ? 'fail' : 'pass');
      expect((await s.settled(n.nodeId, retry.auditId)).trigger).toBe('retry');
    }
    expect(await s.state(n.nodeId)).toMatchObject({ state: 'passing' });
    expect(Date.parse((await s.state(n.nodeId)).nextAuditAt!)).toBe(s.clock.now() + 24 * HOUR);
    expect(s.events.map((e) => e.type)).toEqual(['audit.failed', 'audit.passed']);
  });

  it('an offline node’s due audit waits until it is back', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    await s.tick();
    await s.settled(n.nodeId, (await n.answer('pass')).auditId);
    await n.conn.close();
    s.clock.advance(30 * HOUR);
    expect(await s.tick()).toMatchObject({ queued: 0, started: 0 });
    expect((await s.audits(n.nodeId)).total).toBe(1);
    await n.reconnect();
    expect(await s.tick()).toMatchObject({ queued: 1, started: 1 });
    expect((await n.answer('pass')).auditId).toMatch(/^aud_/);
  });

  it('a busy node is asked again two minutes later; a suite that broke is an error', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    await s.tick();
    const request = await n.conn.next('audit');
    n.conn.send({
      type: 'audit-error',
      auditId: request.auditId,
      code: 'AUDIT_BUSY',
      message: 'Audit aud_local is still running on this machine.',
      runningAuditId: 'aud_local',
    });
    await waitFor(
      async () => (await s.audits(n.nodeId)).audits[0]?.status === 'queued',
      'the audit queued again',
    );
    s.clock.advance(2 * MIN - 1000);
    expect(await s.tick()).toMatchObject({ started: 0 });
    s.clock.advance(1000);
    expect(await s.tick()).toMatchObject({ started: 1 });
    const again = await n.conn.next('audit');
    expect(again.auditId).toBe(request.auditId);
    n.conn.send({
      type: 'audit-error',
      auditId: again.auditId,
      code: 'AUDIT_FAILED',
      message: 'fio crashed',
    });
    const ended = await s.settled(n.nodeId, again.auditId);
    expect([ended.status, ended.error]).toEqual([
      'error',
      'The audit could not run on the machine: fio crashed',
    ]);
    expect((await s.state(n.nodeId)).state).toBe('never');
  });

  it('refuses a report that does not verify, and ignores one for an audit the node was not asked for', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    const other = await s.node({ join: true });
    await s.tick();
    const mine = await n.conn.next('audit');
    const theirs = await other.conn.next('audit');
    // Signed by another node's key: refused.
    n.conn.send({
      type: 'audit-report',
      auditId: mine.auditId,
      jws: await simAuditReport(other.identity, n.nodeId, mine.auditId),
    });
    expect(await n.conn.next('error')).toEqual({
      type: 'error',
      code: 'AUDIT_REPORT_REFUSED',
      message: 'The audit report signature does not verify with this node key.',
    });
    expect((await s.settled(n.nodeId, mine.auditId)).error).toBe(
      'The audit report signature does not verify with this node key.',
    );
    // Node n reports on the other node's audit: nothing happens to it.
    n.conn.send({
      type: 'audit-report',
      auditId: theirs.auditId,
      jws: await simAuditReport(n.identity, n.nodeId, theirs.auditId),
    });
    await n.conn.sync();
    await new Promise((r) => setTimeout(r, 100));
    expect((await s.audits(other.nodeId)).audits[0]?.status).toBe('running');
  });
});

describe('audits that changes ask for', () => {
  it('a snapshot with fewer cores than at the approval is flagged and audited', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    await s.tick();
    await s.settled(n.nodeId, (await n.answer('pass')).auditId);
    const node = (
      await s.server.api<{ hardware: { cpu: { cores: number } } & Record<string, unknown> }>(
        'GET',
        `/v1/nodes/${n.nodeId}`,
      )
    ).body;
    const hardware = { ...node.hardware, cpu: { ...node.hardware.cpu, cores: 8 } };
    s.clock.advance(MIN);
    n.conn.send({
      type: 'hardware',
      snapshot: await signPayload(n.identity, {
        nodeId: n.nodeId,
        takenAt: new Date().toISOString(),
        hardware,
      }),
    });
    await waitFor(async () => (await s.audits(n.nodeId)).total === 2, 'a hardware audit');
    expect((await s.audits(n.nodeId)).audits[0]).toMatchObject({ trigger: 'hardware', status: 'queued' });
    const flags = (
      await s.server.api<{ flags: { kind: string; message: string }[] }>('GET', `/v1/nodes/${n.nodeId}`)
    ).body.flags;
    expect(flags).toContainEqual({
      kind: 'hardware-shortfall',
      message:
        'The machine now reports less than it was approved with: CPU cores: 8, approved with 16. It is audited again.',
      createdAt: expect.any(String),
      resolvedAt: null,
    });
  });

  it('a revoke cancels the node’s audits', async () => {
    const s = await setup();
    const n = await s.node({ join: true });
    await s.tick();
    const request = await n.conn.next('audit');
    await s.server.api('POST', `/v1/nodes/${n.nodeId}/revoke`, { body: { reason: 'test' } });
    const ended = await s.settled(n.nodeId, request.auditId);
    expect([ended.status, ended.error]).toEqual([
      'error',
      'The machine was revoked; its audits were cancelled.',
    ]);
    expect(await s.running()).toBe(0);
  });
});
