/**
 * A machine's continuous audits on its page (DESIGN.md "Continuous audits"): the state, what the
 * last audit found wrong (what failed, why it matters, the steps and the guide's section), the
 * "Check again" button (disabled with the time left after a request), a chart per benchmark over
 * the audits, and the history. Owners, reviewers and ops see it; the owner and ops may ask.
 */
import type { AuditView } from '../audits/schemas.js';
import type { NodeAuditView } from '../nodes/schemas.js';
import { ApiError, api, errorText } from './api.js';
import { figureChart } from './chart.js';
import { h, notice, replace, table } from './dom.js';
import { dateTime, relativeTime } from './format.js';

/** The benchmarks charted over time, one figure each (names as in protocol/audit.ts AUDIT_METRICS). */
const CHARTED: readonly { name: string; check: string; title: string; unit: string }[] = [
  { name: 'cpuEventsPerSecPerThread', check: 'cpu', title: 'Processor speed per thread', unit: 'events/s' },
  { name: 'memoryReadMiBps', check: 'memory', title: 'Memory read speed', unit: 'MiB/s' },
  { name: 'diskRandReadIops', check: 'disk', title: 'Disk random reads', unit: 'IOPS' },
  { name: 'diskSeqWriteMiBps', check: 'disk', title: 'Disk sequential writes', unit: 'MiB/s' },
  { name: 'shmWriteMiBps', check: 'shm', title: 'Shared memory writes', unit: 'MiB/s' },
  { name: 'networkDownloadMbps', check: 'network', title: 'Download from the server', unit: 'Mbit/s' },
];

const STATE_TEXT: Record<NodeAuditView['state'], { label: string; tone: string; text: string }> = {
  passing: { label: 'Checks passing', tone: 'ok', text: 'The last check of this machine passed.' },
  failing: {
    label: 'Checks failing',
    tone: 'bad',
    text: 'The last check of this machine failed. Fix what is listed below, then press "Check again".',
  },
  stale: {
    label: 'Not checked recently',
    tone: 'warn',
    text: 'This machine has not passed a check for a while (it may have been offline). It is checked when it is back.',
  },
  never: {
    label: 'Not checked yet',
    tone: 'wait',
    text: 'The machine is checked for the first time after it joins.',
  },
};

/** Why each check matters, in the owner's words (as in docs/troubleshooting.md). */
const WHY: Record<string, string> = {
  gpu: 'Workloads rent your machine for its graphics card. A card that has fallen off the bus, overheats or has broken memory cannot do that work.',
  'gpu-runtime':
    'Every workload runs in a container. Without the NVIDIA runtime it starts, but cannot use the graphics card.',
  cpu: 'Workloads need the processor to feed the graphics card; a slowed-down processor makes them slow.',
  memory: 'Slow or failing memory makes workloads slow or makes them crash.',
  disk: 'Workloads load their data and models from the disk; a full or slow disk stalls them.',
  shm: 'Programs that use several GPUs or processes exchange data through shared memory.',
  network: 'Workloads download models and serve their users over your connection.',
  cluster: 'Work reaches your machine only through the cluster; a machine the cluster cannot use gets none.',
};
const WHY_DEFAULT = 'A machine that fails this check cannot run work reliably.';

function waitText(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

function explanation(audit: AuditView | undefined): HTMLElement | null {
  const failed = audit?.checks.filter((c) => c.status === 'fail') ?? [];
  if (!audit || failed.length === 0) return null;
  return h(
    'div',
    { class: 'audit-failures', id: 'audit-failures' },
    h('h3', null, 'What failed'),
    failed.map((c) =>
      h(
        'article',
        { class: 'audit-failure', 'data-check': c.id },
        h('h4', null, `${c.id}: ${c.summary}`),
        h('p', null, h('strong', null, 'Why it matters. '), WHY[c.id] ?? WHY_DEFAULT),
        c.detail && h('p', null, h('strong', null, 'What was found. '), c.detail),
        c.fix && h('p', null, h('strong', null, 'What to do. '), c.fix),
        // Our own guide, served with the dashboard (the report's docUrl names the server's public address).
        h('p', null, h('a', { href: `/docs/troubleshooting#${c.id}` }, `Step-by-step guide for "${c.id}"`)),
      ),
    ),
    audit.diagnosticsId &&
      h(
        'p',
        null,
        h(
          'a',
          { href: `/v1/nodes/${audit.nodeId}/audits/${audit.id}/diagnostics`, download: '' },
          'Download the diagnostics collected after this check',
        ),
      ),
  );
}

function charts(audits: readonly AuditView[]): HTMLElement | null {
  const done = audits.filter((a) => a.status === 'passed' || a.status === 'failed').reverse();
  const drawn = CHARTED.map((info) => {
    const points = done.flatMap((a) => {
      const value = a.checks.find((c) => c.id === info.check)?.metrics[info.name];
      return value === undefined
        ? []
        : [{ label: dateTime(a.finishedAt).slice(0, 12), value, failed: a.status === 'failed' }];
    });
    if (points.length === 0) return null;
    return h(
      'figure',
      { class: 'audit-chart', 'data-metric': info.name },
      figureChart(points, info.title, info.unit),
      h('figcaption', null, `${info.title} (${info.unit})`),
    );
  }).filter((f) => f !== null);
  return drawn.length ? h('div', { class: 'audit-charts' }, drawn) : null;
}

export interface AuditSectionOptions {
  nodeId: string;
  state: NodeAuditView;
  /** Ops and the owner may ask for an audit (a reviewer may not). */
  mayAsk: boolean;
  /** Owners ask at most once per 10 minutes; ops are not limited. */
  limited: boolean;
  now: () => number;
  reload: () => void;
}

/** The section's content, loaded (the history) and wired (the button). */
export async function auditSection(o: AuditSectionOptions): Promise<HTMLElement> {
  const { audits } = await api<{ audits: AuditView[] }>('GET', `/v1/nodes/${o.nodeId}/audits?limit=20`);
  const about = STATE_TEXT[o.state.state];
  const status = h('div');
  const button = h('button', { type: 'button', id: 'check-again' }, 'Check again');
  const hint = h('span', { class: 'muted', id: 'check-again-hint' });
  const limitUntil = (at: number | null) => {
    const left = at === null ? 0 : at - o.now();
    button.disabled = left > 0 || o.state.current !== null;
    const parts = [
      o.state.current
        ? `A check is ${o.state.current.status === 'running' ? 'running' : 'waiting to run'}.`
        : '',
      left > 0 ? `You can ask again in ${waitText(left)}.` : '',
    ].filter(Boolean);
    replace(hint, parts.length ? ` ${parts.join(' ')}` : '');
  };
  limitUntil(o.limited && o.state.checkAgainAt ? Date.parse(o.state.checkAgainAt) : null);
  button.addEventListener('click', () => {
    button.disabled = true;
    void api<{ id: string }>('POST', `/v1/nodes/${o.nodeId}/audits`)
      .then(() => o.reload())
      .catch((error: unknown) => {
        replace(status, notice('error', errorText(error)));
        const retry = error instanceof ApiError && error.status === 429 ? 600_000 : 0;
        limitUntil(retry ? o.now() + retry : null);
      });
  });
  const latest = audits.find((a) => a.status === 'passed' || a.status === 'failed');
  return h(
    'div',
    { id: 'audits' },
    h('p', { class: `badge tone-${about.tone}`, id: 'audit-state' }, about.label),
    h('p', null, about.text),
    h(
      'dl',
      { class: 'facts' },
      h('dt', null, 'Last passed'),
      h('dd', null, o.state.lastPassedAt ? relativeTime(o.state.lastPassedAt, o.now()) : 'never'),
      h('dt', null, 'Next check'),
      h('dd', null, o.state.nextAuditAt ? dateTime(o.state.nextAuditAt) : '—'),
    ),
    o.state.state === 'failing' ? explanation(latest) : null,
    o.mayAsk && h('div', { class: 'row' }, button, hint),
    status,
    charts(audits),
    table(
      'Checks of this machine',
      ['Requested', 'Why', 'Result', 'Checks'],
      audits.map((a) => [
        dateTime(a.requestedAt),
        a.trigger,
        a.status,
        a.checks.length
          ? a.checks
              .filter((c) => c.status !== 'pass')
              .map((c) => `${c.id}: ${c.summary}`)
              .join('; ') || 'all passed'
          : (a.error ?? '—'),
      ]),
      'No checks yet.',
    ),
  );
}
