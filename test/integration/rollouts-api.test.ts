/**
 * The rollouts API (docs/updates.md) on the real server: who may use it, what it refuses and why,
 * pause / resume / abort with their conflicts, and the activity entries. The rollout itself, with
 * real agents, is test/integration/agent-update.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { upload } from './artifact-support.js';
import { runAdmin } from '../../scripts/admin/cli.js';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

async function server() {
  const s = await startTestServer({ deps: { rolloutTickMs: 60_000 } });
  servers.push(s);
  expect((await upload(s, 'homenode-agent', '2.0.0', Buffer.from('a release'))).status).toBe(201);
  return s;
}

const body = (over: Record<string, unknown> = {}) => ({
  artifact: 'homenode-agent',
  version: '2.0.0',
  stages: [
    { percent: 5, soakMinutes: 60 },
    { percent: 100, soakMinutes: 0 },
  ],
  maxFailures: 2,
  ...over,
});

type ErrorBody = { error: { code: string; message: string } };

describe('rollouts API', () => {
  it('lets ops create, list, show, pause, resume and abort, each an activity entry', async () => {
    const s = await server();
    const ops = await s.tokenFor('ops');
    const created = await s.api<{ id: string; state: string; stage: number }>('POST', '/v1/rollouts', {
      token: ops,
      body: body(),
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ state: 'active', stage: 1, version: '2.0.0', maxFailures: 2 });
    const { id } = created.body;
    const list = await s.api<{ rollouts: { id: string }[] }>('GET', '/v1/rollouts', { token: ops });
    expect(list.body.rollouts.map((r) => r.id)).toEqual([id]);
    const shown = await s.api<{ nodes: unknown[]; counts: Record<string, number> }>(
      'GET',
      `/v1/rollouts/${id}`,
    );
    expect(shown.body).toMatchObject({ nodes: [], counts: {} });

    expect(
      (await s.api<{ state: string }>('POST', `/v1/rollouts/${id}/pause`, { token: ops })).body.state,
    ).toBe('paused');
    const again = await s.api<ErrorBody>('POST', `/v1/rollouts/${id}/pause`, { token: ops });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/is paused; only an active one can be paused/);
    expect(
      (await s.api<{ state: string }>('POST', `/v1/rollouts/${id}/resume`, { token: ops })).body.state,
    ).toBe('active');
    expect(
      (await s.api<{ state: string }>('POST', `/v1/rollouts/${id}/abort`, { token: ops })).body.state,
    ).toBe('aborted');
    expect((await s.api('POST', `/v1/rollouts/${id}/resume`, { token: ops })).status).toBe(409);

    const activity = await s.api<{ entries: { action: string }[] }>(
      'GET',
      `/v1/audit?targetType=rollout&targetId=${id}`,
    );
    expect(activity.body.entries.map((e) => e.action).sort()).toEqual(
      ['rollout.aborted', 'rollout.created', 'rollout.paused', 'rollout.resumed'].sort(),
    );
  });

  it('refuses stages that do not grow, other artifacts, unknown versions, and bad fields', async () => {
    const s = await server();
    const shrinking = await s.api<ErrorBody>('POST', '/v1/rollouts', {
      body: body({
        stages: [
          { percent: 50, soakMinutes: 0 },
          { percent: 10, soakMinutes: 0 },
        ],
      }),
    });
    expect(shrinking.status).toBe(400);
    expect(shrinking.body.error.message).toMatch(
      /stage 2 \(10 %\) must take more nodes than stage 1 \(50 %\)/,
    );
    const k3s = await s.api<ErrorBody>('POST', '/v1/rollouts', { body: body({ artifact: 'k3s' }) });
    expect(k3s.status).toBe(400);
    expect(k3s.body.error.message).toMatch(/must be homenode-agent/);
    const missing = await s.api<ErrorBody>('POST', '/v1/rollouts', { body: body({ version: '9.9.9' }) });
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/upload it first/);
    for (const bad of [
      { version: '2.0.0\nExecStart=/bin/sh' },
      { maxFailures: 0 },
      { stages: [] },
      { stages: [{ percent: 101, soakMinutes: 0 }] },
    ])
      expect((await s.api('POST', '/v1/rollouts', { body: body(bad) })).status).toBe(400);
    expect((await s.api('GET', '/v1/rollouts/ro_nothing')).status).toBe(404);
  });

  it('is for admin and ops only', async () => {
    const s = await server();
    const owner = await s.createOwner();
    for (const token of [await s.tokenFor('owner', owner.id), await s.tokenFor('reviewer')]) {
      expect((await s.api('GET', '/v1/rollouts', { token })).status).toBe(403);
      expect((await s.api('POST', '/v1/rollouts', { token, body: body() })).status).toBe(403);
    }
    expect((await s.api('GET', '/v1/rollouts', { token: null })).status).toBe(401);
  });

  it('works from npm run admin -- rollouts create|list|show|pause|resume|abort', async () => {
    const s = await server();
    const admin = async (...argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runAdmin(
        argv,
        { url: s.url, token: s.adminToken },
        { out: (t) => out.push(t), err: (t) => err.push(t) },
      );
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const created = await admin(
      'rollouts',
      'create',
      '--version',
      '2.0.0',
      '--stages',
      '1:60,100:0',
      '--max-failures',
      '3',
    );
    expect(created.code).toBe(0);
    const id = /Rollout (ro_[0-9a-f]+) started\./.exec(created.out)?.[1];
    expect(id).toBeDefined();
    expect(created.out).toMatch(/stage\s+1 of 2/);
    expect((await admin('rollouts', 'list')).out).toContain(id);
    const shown = await admin('rollouts', 'show', id!, '--json');
    expect(JSON.parse(shown.out)).toMatchObject({
      id,
      maxFailures: 3,
      stages: [
        { percent: 1, soakMinutes: 60 },
        { percent: 100, soakMinutes: 0 },
      ],
    });
    expect((await admin('rollouts', 'pause', id!)).out).toMatch(/state\s+paused/);
    expect((await admin('rollouts', 'resume', id!)).out).toMatch(/state\s+active/);
    expect((await admin('rollouts', 'abort', id!)).out).toMatch(/state\s+aborted/);
    const bad = await admin('rollouts', 'create', '--version', '2.0.0', '--stages', 'ten percent');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toMatch(/each stage is PERCENT:SOAK_MINUTES/);
  });
});
