/**
 * The audit routes on the real server with simulated nodes: who may ask for an audit and see its
 * history (another owner: 404; a reviewer cannot trigger: 403), the owner's "check again" limit
 * (429 with Retry-After), the history with our own troubleshooting links, the fleet list filter,
 * the summary ranking failing checks, and diagnostics collected after a failure.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { simAuditReport } from '../../scripts/sim/sim-audit.js';
import { type AuditView, HOUR, MIN, auditSetup, waitFor } from './audit-sim-support.js';

type ErrorBody = { error: { code: string; message: string; details?: { retryAfterSeconds?: number } } };

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup() {
  const s = await auditSetup();
  cleanup.push(() => s.server.close());
  return s;
}

describe('asking for audits', () => {
  it('ops and the owner may ask; a reviewer may not; another owner gets 404; the owner once per 10 minutes', async () => {
    const s = await setup();
    const owner = await s.server.createOwner();
    const n = await s.node({ ownerId: owner.id });
    const ownerToken = await s.server.tokenFor('owner', owner.id);
    const otherToken = await s.server.tokenFor('owner', (await s.server.createOwner()).id);
    const reviewer = await s.server.tokenFor('reviewer');
    const ops = await s.server.tokenFor('ops');

    const byReviewer = await s.server.api<ErrorBody>('POST', `/v1/nodes/${n.nodeId}/audits`, {
      token: reviewer,
    });
    expect([byReviewer.status, byReviewer.body.error.code]).toEqual([403, 'FORBIDDEN']);
    const byOther = await s.server.api<ErrorBody>('POST', `/v1/nodes/${n.nodeId}/audits`, {
      token: otherToken,
    });
    expect([byOther.status, byOther.body.error.code]).toEqual([404, 'NOT_FOUND']);
    expect((await s.server.api('GET', `/v1/nodes/${n.nodeId}/audits`, { token: otherToken })).status).toBe(
      404,
    );

    const first = await s.server.api<{ id: string; status: string }>('POST', `/v1/nodes/${n.nodeId}/audits`, {
      token: ownerToken,
    });
    expect(first.status).toBe(202);
    expect(first.body).toEqual({ id: expect.stringMatching(/^aud_/), status: 'queued' });
    const again = await s.server.api<ErrorBody>('POST', `/v1/nodes/${n.nodeId}/audits`, {
      token: ownerToken,
    });
    expect(again.status).toBe(429);
    expect(again.headers.get('retry-after')).toBe('600');
    expect(again.body.error.message).toBe(
      'You asked for a check of this machine 1 second ago. You can ask again in 10 minutes; meanwhile the machine is checked again by itself.',
    );
    // Ops are not limited; a waiting audit is answered, not doubled.
    const byOps = await s.server.api<{ id: string }>('POST', `/v1/nodes/${n.nodeId}/audits`, { token: ops });
    expect([byOps.status, byOps.body.id]).toEqual([202, first.body.id]);

    s.clock.advance(9 * MIN + 59_000);
    expect((await s.server.api('POST', `/v1/nodes/${n.nodeId}/audits`, { token: ownerToken })).status).toBe(
      429,
    );
    s.clock.advance(1000);
    expect((await s.server.api('POST', `/v1/nodes/${n.nodeId}/audits`, { token: ownerToken })).status).toBe(
      202,
    );

    const history = await s.audits(n.nodeId, reviewer);
    expect(history.audits.map((a) => [a.trigger, a.status])).toEqual([['owner', 'queued']]);
    const activity = await s.server.api<{ entries: { action: string; details: { trigger: string } }[] }>(
      'GET',
      `/v1/audit?targetType=node&targetId=${n.nodeId}`,
    );
    expect(
      activity.body.entries.filter((e) => e.action === 'node.audit_requested').map((e) => e.details.trigger),
    ).toEqual(['owner', 'ops', 'owner']);
  });

  it('refuses to audit a machine that is not approved, with the reason', async () => {
    const s = await setup();
    const n = await s.node({ approve: false });
    const res = await s.server.api<ErrorBody>('POST', `/v1/nodes/${n.nodeId}/audits`);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toBe(
      `Machine ${n.nodeId} is pending: only approved machines are audited. Approve it first.`,
    );
  });
});

describe('what an audit records and shows', () => {
  it('a failure: the checks with our own links, diagnostics the owner may download, the state in the list and the summary', async () => {
    const s = await setup();
    const owner = await s.server.createOwner();
    const n = await s.node({ ownerId: owner.id, join: true });
    const healthy = await s.node({ join: true });
    const ownerToken = await s.server.tokenFor('owner', owner.id);
    // The first audits after the join.
    await s.tick();
    expect((await n.answer('pass')).heavy).toBe(true);
    await healthy.answer('pass');
    const firstAudit = (await s.audits(n.nodeId)).audits[0]!;
    await s.settled(n.nodeId, firstAudit.id);
    expect(firstAudit).toMatchObject({ trigger: 'join' });
    expect((await s.state(n.nodeId)).state).toBe('passing');

    // Diagnostics are collected right after a failed report.
    const answerFail = async (auditId: string) =>
      n.conn.send({
        type: 'audit-report',
        auditId,
        jws: await simAuditReport(n.identity, n.nodeId, auditId, {
          verdict: 'fail',
          serverUrl: 'https://evil.example',
        }),
      });
    n.conn.listen((m) => {
      if (m.type === 'command' && m.name === 'collect-diagnostics')
        n.conn.send({
          type: 'result',
          id: m.id,
          ok: true,
          output: 'Home Node diagnostics\nFindings: nvidia-smi: No devices were found',
        });
      if (m.type === 'audit') void answerFail(m.auditId);
    });
    const asked = await s.server.api<{ id: string }>('POST', `/v1/nodes/${n.nodeId}/audits`, {
      token: ownerToken,
    });
    await s.tick();
    const failed = await s.settled(n.nodeId, asked.body.id);
    expect(failed).toMatchObject({ trigger: 'owner', status: 'failed', error: null });
    const gpu = failed.checks.find((c) => c.id === 'gpu')!;
    expect(gpu).toMatchObject({
      status: 'fail',
      summary: 'The NVIDIA driver sees no GPU',
      fix: 'Switch off at the wall, reseat the graphics card and its power cables, then switch on.',
      // The node's own link is replaced: pages link only to our guide.
      docUrl: 'http://127.0.0.1/docs/troubleshooting#gpu',
    });
    expect(failed.checks.every((c) => c.docUrl === `http://127.0.0.1/docs/troubleshooting#${c.id}`)).toBe(
      true,
    );
    let withBundle: AuditView | undefined;
    await waitFor(async () => {
      withBundle = (await s.audits(n.nodeId)).audits.find((a) => a.id === asked.body.id);
      return withBundle?.diagnosticsId !== null;
    }, 'the diagnostics bundle');
    const bundle = await s.server.api<string>(
      'GET',
      `/v1/nodes/${n.nodeId}/audits/${asked.body.id}/diagnostics`,
      {
        token: ownerToken,
      },
    );
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(bundle.headers.get('content-disposition')).toBe(
      `attachment; filename="${n.nodeId}-${asked.body.id}-diagnostics.txt"`,
    );
    expect(bundle.body).toContain('No devices were found');
    const reviewer = await s.server.tokenFor('reviewer');
    expect(
      (
        await s.server.api('GET', `/v1/nodes/${n.nodeId}/audits/${asked.body.id}/diagnostics`, {
          token: reviewer,
        })
      ).status,
    ).toBe(403);

    // The node's state, the list filter and the event.
    const audit = await s.state(n.nodeId);
    expect(audit).toMatchObject({ state: 'failing', lastAuditId: asked.body.id, current: null });
    expect(Date.parse(audit.nextAuditAt!)).toBe(s.clock.now() + 30 * MIN);
    expect(Date.parse(audit.checkAgainAt!)).toBe(s.clock.now() + 10 * MIN);
    const list = async (state: string) =>
      (await s.server.api<{ nodes: { id: string }[] }>('GET', `/v1/nodes?audit=${state}`)).body.nodes.map(
        (x) => x.id,
      );
    expect(await list('failing')).toEqual([n.nodeId]);
    expect(await list('passing')).toEqual([healthy.nodeId]);
    expect(await list('never')).toEqual([]);
    expect((await s.server.api('GET', '/v1/nodes?audit=broken')).status).toBe(400);
    expect(s.events).toEqual([
      {
        type: 'audit.failed',
        nodeId: n.nodeId,
        ownerId: owner.id,
        auditId: asked.body.id,
        failedChecks: [{ id: 'gpu', summary: gpu.summary, fix: gpu.fix, docUrl: gpu.docUrl }],
      },
    ]);

    const summary = await s.server.api<Record<string, unknown>>('GET', '/v1/audits/summary', {
      token: await s.server.tokenFor('ops'),
    });
    expect(summary.body).toEqual({
      states: { never: 0, passing: 1, failing: 1, stale: 0 },
      running: 0,
      queued: 0,
      maxConcurrent: 50,
      failingChecks: [
        { id: 'gpu', nodes: 1, summaries: [{ summary: 'The NVIDIA driver sees no GPU', nodes: 1 }] },
      ],
    });
    expect((await s.server.api('GET', '/v1/audits/summary', { token: ownerToken })).status).toBe(403);

    // Two days later the healthy node is stale (its audit is due but it is offline).
    await healthy.conn.close();
    s.clock.advance(48 * HOUR);
    expect(await list('stale')).toEqual([healthy.nodeId]);
    expect((await s.state(healthy.nodeId)).state).toBe('stale');
  });
});
