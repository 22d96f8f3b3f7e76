/**
 * Ops: agent rollouts (docs/updates.md). Each rollout with its stages and state; the selected one
 * with every offered node's state and why it failed or rolled back; pause, resume and abort, each
 * after a confirmation. Refreshed every few seconds.
 */
import { api, errorText } from '../api.js';
import { type Child, h, notice, replace, table } from '../dom.js';
import { dateTime, relativeTime } from '../format.js';
import type { PageContext } from '../page.js';

const REFRESH_MS = 5_000;

interface RolloutView {
  id: string;
  version: string;
  state: 'active' | 'paused' | 'aborted';
  stage: number;
  stages: { percent: number; soakMinutes: number }[];
  maxFailures: number;
  reason: string | null;
  createdAt: string;
  stageStartedAt: string;
}
interface RolloutDetailView extends RolloutView {
  counts: Record<string, number>;
  nodes: { nodeId: string; state: string; error: string | null; updatedAt: string }[];
}

const CONFIRM: Record<'pause' | 'resume' | 'abort', (r: RolloutView) => string> = {
  pause: (r) => `Pause the rollout of ${r.version}? No further machine is offered it until you resume.`,
  resume: (r) => `Resume the rollout of ${r.version}? Machines in stage ${r.stage} are offered it again.`,
  abort: (r) =>
    `Abort the rollout of ${r.version} for good? Machines already updated keep it; no other machine gets it.`,
};

const stagesText = (r: RolloutView) =>
  r.stages
    .map((s, i) => `${i + 1}: ${s.percent} %${s.soakMinutes ? `, ${s.soakMinutes} min` : ''}`)
    .join(' · ');

export async function rolloutsPage(ctx: PageContext): Promise<void> {
  let selected = ctx.query.get('id');
  const status = h('div');
  const list = h('div');
  const detail = h('div');

  const act = (r: RolloutView, action: 'pause' | 'resume' | 'abort') => {
    if (!confirm(CONFIRM[action](r))) return;
    void api('POST', `/v1/rollouts/${encodeURIComponent(r.id)}/${action}`)
      .then(load)
      .then(() => replace(status, notice('ok', `Rollout ${r.id}: ${action} done.`)))
      .catch((error: unknown) => replace(status, notice('error', errorText(error))));
  };

  const actions = (r: RolloutView): Child[] => [
    r.state === 'active' ? h('button', { type: 'button', onclick: () => act(r, 'pause') }, 'Pause') : null,
    r.state === 'paused' ? h('button', { type: 'button', onclick: () => act(r, 'resume') }, 'Resume') : null,
    r.state !== 'aborted'
      ? h('button', { type: 'button', class: 'danger', onclick: () => act(r, 'abort') }, 'Abort')
      : null,
  ];

  const load = async () => {
    const { rollouts } = await api<{ rollouts: RolloutView[] }>('GET', '/v1/rollouts?limit=100');
    selected ??= rollouts[0]?.id ?? null;
    replace(
      list,
      table(
        'Rollouts',
        ['Version', 'State', 'Stage', 'Stages', 'Max failures', 'Started', ''],
        rollouts.map((r) => [
          h('a', { href: `/rollouts?id=${encodeURIComponent(r.id)}` }, r.version),
          h('span', { class: `badge rollout-${r.state}`, title: r.reason ?? '' }, r.state),
          `${r.stage} of ${r.stages.length}`,
          stagesText(r),
          String(r.maxFailures),
          h('span', { title: dateTime(r.createdAt) }, relativeTime(r.createdAt, ctx.now())),
          h('span', { class: 'actions' }, actions(r)),
        ]),
        'No rollouts yet: upload a release (npm run build:agent, then artifacts upload) and start one with npm run admin -- rollouts create.',
      ),
    );
    if (!selected) {
      replace(detail);
      return;
    }
    const r = await api<RolloutDetailView>('GET', `/v1/rollouts/${encodeURIComponent(selected)}`);
    const counts = Object.entries(r.counts)
      .map(([state, n]) => `${n} ${state}`)
      .join(', ');
    replace(
      detail,
      h('h2', null, `Rollout of ${r.version}`),
      h(
        'p',
        null,
        `${r.state} · stage ${r.stage} of ${r.stages.length} (since ${dateTime(r.stageStartedAt)}) · ${counts || 'no machine offered yet'}`,
      ),
      r.reason ? notice(r.state === 'active' ? 'info' : 'error', r.reason) : null,
      table(
        'Machines in this rollout',
        ['Machine', 'State', 'Since', 'Why'],
        r.nodes.map((n) => [
          h('a', { href: `/nodes/${encodeURIComponent(n.nodeId)}` }, n.nodeId),
          h('span', { class: `badge update-${n.state}` }, n.state),
          h('span', { title: dateTime(n.updatedAt) }, relativeTime(n.updatedAt, ctx.now())),
          n.error ?? '',
        ]),
        'No machine has been offered this release yet (offline machines get it when they are back).',
      ),
    );
  };
  const reload = () =>
    void load().catch((error: unknown) => replace(status, notice('error', errorText(error))));

  replace(ctx.root, h('h1', null, 'Agent rollouts'), status, list, detail);
  await load();
  const timer = setInterval(reload, REFRESH_MS);
  ctx.onLeave(() => clearInterval(timer));
}
