/** One machine: status, actions, hardware, checks, attributes, presence, metrics, commands, terminal, audit. */
import { api, errorText } from '../api.js';
import { auditSection } from '../audit-view.js';
import { standingSection } from './performance.js';
import { field, h, notice, replace, table } from '../dom.js';
import { dateTime, duration, percent, relativeTime } from '../format.js';
import { checksTable, hardwareSummary } from '../hardware.js';
import type { PageContext } from '../page.js';
import { can } from '../session.js';
import { describeNode, shellUnavailableReason } from '../status.js';
import { metricsView } from '../metrics-view.js';
import { openTerminal } from '../terminal.js';
import { type PresenceTimeline, presenceStrip } from '../timeline.js';
import type { NodeDetailView } from '../../nodes/schemas.js';

interface CommandResult {
  id: string;
  type: string;
  ok: boolean | null;
  output: string | null;
  error: string | null;
  requestedAt: string;
  finishedAt: string | null;
}

interface AuditEntry {
  id: number;
  at: string;
  actor: { type: string; id: string | null; role?: string | null };
  action: string;
  details: unknown;
}

const COMMANDS = [
  'collect-diagnostics',
  'run-preflight',
  'cordon',
  'uncordon',
  'drain',
  'restart-agent',
  'reboot',
];

function section(id: string, title: string, ...children: (Node | string | null | false)[]): HTMLElement {
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

export async function nodePage(ctx: PageContext): Promise<void> {
  const id = ctx.params.id ?? '';
  const ops = can.operate(ctx.session);
  const [node, presence] = await Promise.all([
    api<NodeDetailView>('GET', `/v1/nodes/${encodeURIComponent(id)}`),
    api<PresenceTimeline>('GET', `/v1/nodes/${encodeURIComponent(id)}/presence?days=7`),
  ]);
  const plain = describeNode(node, ctx.now());
  const actionStatus = h('div');
  const reload = () => ctx.navigate(location.pathname);
  const act = (path: string, body: unknown) =>
    void api('POST', `/v1/nodes/${node.id}/${path}`, body)
      .then(reload)
      .catch((error: unknown) => replace(actionStatus, notice('error', errorText(error))));
  const reason = h('input', { type: 'text', name: 'reason', maxlength: 2000 });

  const actions =
    ops &&
    h(
      'div',
      { class: 'card' },
      h('h2', null, 'Actions'),
      actionStatus,
      h(
        'div',
        { class: 'row' },
        node.status === 'pending' &&
          h('button', { type: 'button', onclick: () => act('approve', {}) }, 'Approve'),
      ),
      node.status !== 'revoked' &&
        h(
          'form',
          {
            class: 'row',
            onsubmit: (e: Event) => {
              e.preventDefault();
              const submitter = (e as SubmitEvent).submitter?.getAttribute('value') ?? 'revoke';
              if (!reason.value.trim()) {
                replace(actionStatus, notice('error', 'Give a reason: the owner sees it.'));
                return;
              }
              act(submitter, { reason: reason.value.trim() });
            },
          },
          field('Reason', reason),
          node.status === 'pending' &&
            h('button', { type: 'submit', class: 'secondary', value: 'reject' }, 'Reject'),
          h('button', { type: 'submit', class: 'danger', value: 'revoke' }, 'Revoke'),
        ),
    );

  const attributes = table(
    'Provider attributes',
    ['Attribute', 'Value'],
    node.attributes.map((a) => [h('code', null, a.key), a.value]),
    'No attributes.',
  );
  const labels = table(
    'Kubernetes labels',
    ['Label', 'Value'],
    Object.entries(node.labels).map(([k, v]) => [h('code', null, k), v]),
    'No labels.',
  );

  const terminalBox = h('div');
  const shellBlocked = shellUnavailableReason(node);
  const openButton = h('button', { type: 'button' }, 'Open terminal');
  let closeTerminal: (() => void) | undefined;
  openButton.addEventListener('click', () => {
    openButton.hidden = true;
    closeTerminal = openTerminal(terminalBox, node.id, () => {
      openButton.hidden = false;
    });
  });
  ctx.onLeave(() => closeTerminal?.());

  const commandsBox = h('div');
  const commandStatus = h('div');
  const loadCommands = async () => {
    const { commands } = await api<{ commands: CommandResult[] }>('GET', `/v1/nodes/${node.id}/commands`);
    replace(
      commandsBox,
      table(
        'Commands',
        ['Command', 'Requested', 'Result', 'Output'],
        commands.map((c) => [
          c.type,
          dateTime(c.requestedAt),
          c.ok === null ? 'waiting…' : c.ok ? 'ok' : `failed: ${c.error ?? ''}`,
          c.output || c.error
            ? h(
                'a',
                { href: `/v1/nodes/${node.id}/commands/${c.id}/output`, download: '' },
                c.type === 'collect-diagnostics' ? 'Download diagnostics' : 'Download output',
              )
            : '—',
        ]),
        'No commands sent yet.',
      ),
    );
  };
  const commandSelect = h(
    'select',
    { name: 'command' },
    COMMANDS.map((c) => h('option', { value: c }, c)),
  );
  const commandForm = h(
    'form',
    { class: 'row' },
    field('Command', commandSelect),
    h('button', { type: 'submit', disabled: !node.online }, 'Send'),
  );
  commandForm.addEventListener('submit', (e) => {
    e.preventDefault();
    replace(commandStatus, notice('info', `Sent ${commandSelect.value}; waiting for the machine…`));
    void api<CommandResult>('POST', `/v1/nodes/${node.id}/commands`, { type: commandSelect.value })
      .then((r) =>
        replace(
          commandStatus,
          notice(r.ok ? 'ok' : 'error', `${r.type}: ${r.ok ? 'done' : (r.error ?? 'failed')}`),
        ),
      )
      .then(loadCommands)
      .catch((error: unknown) => replace(commandStatus, notice('error', errorText(error))));
  });

  const checksBox = h('div');
  const loadChecks = async () =>
    replace(
      checksBox,
      await auditSection({
        nodeId: node.id,
        state: node.audit,
        mayAsk: ops || ctx.session.role === 'owner',
        limited: !ops,
        now: () => ctx.now(),
        reload,
      }),
    );

  // Where the machine stands among machines like it (only while its last audit passed).
  const standingBox = h('div');
  void standingSection(node.id).then((el) => el && replace(standingBox, el));

  const auditBox = h('div');
  const loadAudit = async () => {
    const { entries } = await api<{ entries: AuditEntry[] }>(
      'GET',
      `/v1/audit?targetType=node&targetId=${node.id}&limit=50`,
    );
    replace(
      auditBox,
      table(
        'Events and audit',
        ['When', 'What', 'Who', 'Details'],
        entries.map((e) => [
          dateTime(e.at),
          e.action,
          `${e.actor.role ?? e.actor.type} ${e.actor.id ?? ''}`,
          h('code', { class: 'details' }, e.details ? JSON.stringify(e.details) : ''),
        ]),
        'No events yet.',
      ),
    );
  };

  replace(
    ctx.root,
    h('p', null, h('a', { href: ops || ctx.session.role === 'reviewer' ? '/fleet' : '/machines' }, '← Back')),
    h('h1', null, `Machine ${node.id}`),
    h('p', { class: `badge tone-${plain.tone}` }, plain.label),
    h('p', null, plain.explanation),
    plain.attention.length > 0 &&
      h(
        'ul',
        { class: 'attention' },
        plain.attention.map((a) => h('li', null, a)),
      ),
    actions || null,
    section('h-audits', 'Regular checks', checksBox),
    standingBox,
    h(
      'div',
      { class: 'cards two' },
      section(
        'h-hw',
        'Hardware',
        h('p', null, hardwareSummary(node)),
        h(
          'dl',
          { class: 'facts' },
          h('dt', null, 'Status'),
          h('dd', null, node.status),
          h('dt', null, 'Agent'),
          h('dd', null, node.agentVersion),
          h('dt', null, 'OS'),
          h('dd', null, `${node.hardware.os.distro} (${node.hardware.os.kernel})`),
          h('dt', null, 'Enrolled'),
          h('dd', null, dateTime(node.enrolledAt)),
          h('dt', null, 'Last seen'),
          h('dd', null, relativeTime(node.lastSeenAt, ctx.now())),
          h('dt', null, 'Uptime'),
          h('dd', null, `${percent(node.uptime.last24h)} (24 h) · ${percent(node.uptime.last7d)} (7 days)`),
          h('dt', null, 'Up in total'),
          h('dd', { 'data-field': 'up-total' }, `${duration(node.uptime.upSeconds)} since enrollment`),
        ),
      ),
      section('h-metrics', 'Latest metrics', metricsView(node.metrics)),
    ),
    section(
      'h-presence',
      'Online, last 7 days',
      presenceStrip(presence),
      h('p', { class: 'muted' }, `${presence.intervals.length} session(s) since ${dateTime(presence.from)}.`),
    ),
    section('h-checks', 'Hardware checks', checksTable(node)),
    section('h-attrs', 'Provider attributes', attributes),
    section('h-labels', 'Kubernetes labels', labels),
    ops &&
      section(
        'h-term',
        'Remote terminal',
        h(
          'p',
          { class: 'muted' },
          shellBlocked ?? 'Opens a shell on the machine. Sessions are recorded and audited.',
        ),
        !shellBlocked && openButton,
        terminalBox,
      ),
    ops && section('h-cmd', 'Commands', commandForm, commandStatus, commandsBox),
    ops && section('h-audit', 'Events and audit', auditBox),
  );
  await Promise.all([loadChecks(), ...(ops ? [loadCommands(), loadAudit()] : [])]);
}
