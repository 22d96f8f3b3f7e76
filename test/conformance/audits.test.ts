/** The audit repository (issue 13) and the payouts' audit history on both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import type { NewAudit, NodeAuditState } from '../../enroll-server/audits/audit-repository.js';
import type { Repositories } from '../../enroll-server/repositories.js';
import type { AuditCheck } from '../../protocol/audit.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { HOUR, MINUTE, T0, hardware, seedNode } from './fixtures.js';

const audit = (id: string, nodeId: string, overrides: Partial<NewAudit> = {}): NewAudit => ({
  id,
  nodeId,
  trigger: 'schedule',
  priority: 2,
  requestedAt: T0,
  requestedBy: null,
  notBefore: T0,
  ...overrides,
});

const check = (id: AuditCheck['id'], status: AuditCheck['status'], summary: string): AuditCheck => ({
  id,
  status,
  summary,
  detail: `detail of ${id}`,
  fix: status === 'fail' ? `fix ${id}` : '',
  docUrl: `https://docs.example.com/audits#${id}`,
  metrics: { gpuTempC: 61 },
});

const state = (nodeId: string, overrides: Partial<NodeAuditState> = {}): NodeAuditState => ({
  nodeId,
  state: 'never',
  stateSince: T0,
  lastAuditId: null,
  lastPassedAt: null,
  failures: 0,
  nextAuditAt: null,
  nextTrigger: null,
  ownerRequestedAt: null,
  updatedAt: T0,
  ...overrides,
});

async function approvedNodes(repos: Repositories, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let n = 1; n <= count; n += 1) {
    const id = await seedNode(repos, n, { at: T0 + n });
    await repos.nodes.transition(id, 'pending', 'approved', null, 'tok', T0 + 10 * n);
    ids.push(id);
  }
  return ids;
}

describe.each(ENGINES)('audit repository on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e;
  }

  it('audits: one queued and one running per node; startable by priority; listed newest first with a total', async () => {
    const { repos } = await setup();
    const [a, b] = await approvedNodes(repos, 2);
    await repos.audits.create(audit('aud_1', a!, { priority: 3 }));
    await expect(repos.audits.create(audit('aud_dup', a!))).rejects.toThrow();
    await repos.audits.create(audit('aud_2', b!, { priority: 1, requestedAt: T0 + 1 }));
    expect(await repos.audits.startable(T0, 10, 0)).toEqual([
      { id: 'aud_2', nodeId: b },
      { id: 'aud_1', nodeId: a },
    ]);
    expect(await repos.audits.countQueued()).toBe(2);
    expect(await repos.audits.start('aud_1', T0 + 5, T0 + HOUR, 0)).toBe(false); // no slot
    expect(await repos.audits.start('aud_2', T0 + 5, T0 + 5 + 10 * MINUTE, 2)).toBe(true);
    expect(await repos.audits.start('aud_2', T0 + 6, T0 + 6 + 10 * MINUTE, 2)).toBe(false);
    // aud_3 waits behind the running one on node b.
    await repos.audits.create(audit('aud_3', b!, { requestedAt: T0 + 2, notBefore: T0 }));
    expect((await repos.audits.startable(T0 + HOUR, 10, 0)).map((s) => s.id)).toEqual(['aud_1']);
    expect(await repos.audits.countRunning()).toBe(1);
    expect((await repos.audits.openFor([a!, b!])).map((o) => [o.id, o.status])).toEqual([
      ['aud_1', 'queued'],
      ['aud_2', 'running'],
      ['aud_3', 'queued'],
    ]);
    const checks = [check('gpu', 'pass', 'GPU fine'), check('disk', 'fail', 'disk slow')];
    expect(
      await repos.audits.finish('aud_2', {
        status: 'failed',
        finishedAt: T0 + 60,
        checks,
        agentVersion: '1.2.0',
      }),
    ).toBe(true);
    expect(await repos.audits.finish('aud_2', { status: 'error', finishedAt: T0 + 61, error: 'late' })).toBe(
      false,
    );
    expect(await repos.audits.get('aud_2')).toMatchObject({
      status: 'failed',
      finishedAt: T0 + 60,
      deadlineAt: null,
      checks,
      skipped: null,
      agentVersion: '1.2.0',
    });
    const page = await repos.audits.forNode(b!, 1, 0);
    expect([page.total, page.audits.map((x) => x.id)]).toEqual([2, ['aud_3']]);
    expect((await repos.audits.forNode(b!, 5, 1)).audits.map((x) => x.id)).toEqual(['aud_2']);
    expect(await repos.audits.forNode('node_9', 5, 0)).toEqual({ audits: [], total: 0 });
  });

  it('audits: the fleet-wide cap holds when several connections start audits at once', async () => {
    const e = await setup();
    const other = await e.openAnother();
    const nodes = await approvedNodes(e.repos, 8);
    for (const [i, id] of nodes.entries()) await e.repos.audits.create(audit(`aud_${i}`, id));
    const started = await Promise.all(
      nodes.map((_, i) => (i % 2 ? other.repos : e.repos).audits.start(`aud_${i}`, T0 + 1, T0 + HOUR, 3)),
    );
    expect(started.filter(Boolean)).toHaveLength(3);
    expect(await e.repos.audits.countRunning()).toBe(3);
  });

  it('audits: requeued, overdue, diagnostics, compacted beyond the newest ones, failing checks counted', async () => {
    const { repos } = await setup();
    const [a, b] = await approvedNodes(repos, 2);
    await repos.audits.create(audit('aud_r', a!));
    expect(await repos.audits.start('aud_r', T0, T0 + MINUTE, 5)).toBe(true);
    expect((await repos.audits.overdue(T0 + 2 * MINUTE)).map((x) => x.id)).toEqual(['aud_r']);
    expect(await repos.audits.requeue('aud_r', T0 + HOUR)).toBe(true);
    expect(await repos.audits.requeue('aud_r', T0 + HOUR)).toBe(false);
    expect(await repos.audits.get('aud_r')).toMatchObject({
      status: 'queued',
      startedAt: null,
      notBefore: T0 + HOUR,
    });
    await repos.commands.create({
      id: 'cmd_1',
      nodeId: a!,
      name: 'collect-diagnostics',
      args: {},
      requestedBy: null,
      requestedAt: T0,
    });
    await repos.audits.setDiagnostics('aud_r', 'cmd_1');
    expect((await repos.audits.get('aud_r'))?.diagnosticsId).toBe('cmd_1');
    // Six finished audits of node b: the newest two keep their details, up to four older ones lose them.
    for (let i = 0; i < 6; i += 1) {
      await repos.audits.create(audit(`aud_b${i}`, b!, { requestedAt: T0 + i }));
      await repos.audits.finish(`aud_b${i}`, {
        status: 'failed',
        finishedAt: T0 + 100 + i,
        checks: [check('disk', 'fail', 'disk slow'), check('gpu', 'pass', 'GPU fine')],
      });
    }
    await repos.audits.compact(b!, 2);
    const kept = await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (i) => (await repos.audits.get(`aud_b${i}`))?.checks?.[0]?.detail),
    );
    expect(kept).toEqual(['', '', '', '', 'detail of disk', 'detail of disk']);
    // Node a fails disk and network, node b disk: counted per failing node's last audit.
    await repos.audits.finish('aud_r', {
      status: 'failed',
      finishedAt: T0 + 200,
      checks: [
        check('network', 'fail', 'no route'),
        check('disk', 'fail', 'disk slow'),
        check('cpu', 'warn', 'warm'),
      ],
    });
    await repos.audits.saveState(state(a!, { state: 'failing', lastAuditId: 'aud_r' }));
    await repos.audits.saveState(state(b!, { state: 'failing', lastAuditId: 'aud_b5' }));
    expect(await repos.audits.failingChecks()).toEqual([
      { checkId: 'disk', summary: 'disk slow', nodes: 2 },
      { checkId: 'network', summary: 'no route', nodes: 1 },
    ]);
  });

  it('states: saved and replaced, listed, counted (stale, nodes without a row as never), due nodes', async () => {
    const { repos } = await setup();
    const [a, b, c] = await approvedNodes(repos, 3);
    await seedNode(repos, 4); // pending: not live
    expect(await repos.audits.nodesWithoutState(10)).toEqual([a, b, c]);
    await repos.audits.saveState(
      state(a!, { state: 'passing', lastPassedAt: T0, nextAuditAt: T0 + HOUR, nextTrigger: 'retry' }),
    );
    await repos.audits.saveState(
      state(a!, { state: 'passing', lastPassedAt: T0 + 5, nextAuditAt: T0 + HOUR, nextTrigger: 'retry' }),
    );
    await repos.audits.saveState(state(b!, { state: 'failing', failures: 2, nextAuditAt: T0 + 2 * HOUR }));
    expect(await repos.audits.state(a!)).toEqual(
      state(a!, { state: 'passing', lastPassedAt: T0 + 5, nextAuditAt: T0 + HOUR, nextTrigger: 'retry' }),
    );
    expect((await repos.audits.states([b!, 'node_9', a!])).map((s) => s.nodeId).sort()).toEqual([a, b]);
    expect(await repos.audits.states([])).toEqual([]);
    expect(await repos.audits.nodesWithoutState(10)).toEqual([c]);
    expect(await repos.audits.nodeIdsInState(['passing'], { since: T0 })).toEqual([a]);
    expect(await repos.audits.nodeIdsInState(['passing'], { before: T0 })).toEqual([]);
    expect((await repos.audits.nodeIdsInState(['passing', 'failing'])).sort()).toEqual([a, b]);
    expect(await repos.audits.stateCounts(T0)).toEqual({ never: 1, passing: 1, failing: 1, stale: 0 });
    expect(await repos.audits.stateCounts(T0 + 5)).toEqual({ never: 1, passing: 0, failing: 1, stale: 1 });
    expect(await repos.audits.due(T0 + 3 * HOUR, 10, 0)).toEqual([
      { nodeId: a, trigger: 'retry' },
      { nodeId: b, trigger: 'schedule' },
    ]);
    await repos.audits.create(audit('aud_1', a!));
    expect(await repos.audits.due(T0 + 3 * HOUR, 10, 0)).toEqual([{ nodeId: b, trigger: 'schedule' }]);
    expect(await repos.audits.due(T0 + HOUR, 10, 0)).toEqual([]);
  });

  it('state intervals: each start ends the open one; read by period as payouts read them', async () => {
    const { repos } = await setup();
    const [a] = await approvedNodes(repos, 1);
    await repos.audits.create(audit('aud_1', a!));
    await repos.audits.startInterval({
      nodeId: a!,
      state: 'never',
      startedAt: T0,
      verifiedUntil: T0,
      auditId: null,
    });
    await repos.audits.startInterval({
      nodeId: a!,
      state: 'passing',
      startedAt: T0 + HOUR,
      verifiedUntil: T0 + 9 * HOUR,
      auditId: 'aud_1',
    });
    await repos.audits.startInterval({
      nodeId: a!,
      state: 'passing',
      startedAt: T0 + 2 * HOUR,
      verifiedUntil: T0 + 10 * HOUR,
      auditId: null,
    });
    await repos.audits.startInterval({
      nodeId: a!,
      state: 'failing',
      startedAt: T0 + 3 * HOUR,
      verifiedUntil: T0 + 3 * HOUR,
      auditId: null,
    });
    expect(
      (await repos.audits.intervals(a!, T0 + 90 * MINUTE, T0 + 4 * HOUR)).map((i) => [
        i.state,
        i.startedAt,
        i.endedAt,
      ]),
    ).toEqual([
      ['passing', T0 + HOUR, T0 + 2 * HOUR],
      ['passing', T0 + 2 * HOUR, T0 + 3 * HOUR],
      ['failing', T0 + 3 * HOUR, null],
    ]);
    expect(await repos.payouts.auditHistory(a!, T0 + 150 * MINUTE, T0 + 2 * HOUR)).toEqual({
      intervals: [{ startedAt: T0 + 2 * HOUR, endedAt: T0 + 3 * HOUR, verifiedUntil: T0 + 10 * HOUR }],
      firstStartedAt: T0,
    });
    expect(await repos.payouts.auditHistory('node_9', T0, T0 + HOUR)).toEqual({
      intervals: [],
      firstStartedAt: null,
    });
  });

  it('approved hardware: the history row in force at approval (enrollment when never approved)', async () => {
    const { repos } = await setup();
    const [a] = await approvedNodes(repos, 1); // enrolled T0+1, approved T0+10
    await repos.nodes.updateHardware(
      a!,
      { hardware: hardware(2), attributes: [], labels: {} },
      T0 + 10,
      'append',
    );
    await repos.nodes.updateHardware(
      a!,
      { hardware: hardware(3), attributes: [], labels: {} },
      T0 + 20,
      'append',
    );
    expect((await repos.audits.approvedHardware(a!))?.gpus).toHaveLength(2);
    const pending = await seedNode(repos, 7, { at: T0 });
    expect((await repos.audits.approvedHardware(pending))?.gpus).toHaveLength(1);
    expect(await repos.audits.approvedHardware('node_9')).toBeUndefined();
  });
});
