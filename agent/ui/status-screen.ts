/**
 * The daemon's console (pure): on a terminal a small status screen of exactly 24 lines of at most
 * 79 columns (an 80×24 console never scrolls or wraps); elsewhere one plain line per event.
 */
import type { NodeMetrics } from '../../protocol/control.js';
import type { NodeStatus } from '../../protocol/api.js';
import { lastAuditLines, type AuditView } from './audit-view.js';
import { wrapText, type Style } from './output.js';

export const SCREEN_ROWS = 24;
export const SCREEN_WIDTH = 79;

export interface DaemonView {
  nodeId: string;
  serverUrl: string;
  /** The server is reached over plain http to another machine (allowed explicitly): warn. */
  insecureHttp: boolean;
  status: NodeStatus | 'unknown';
  reason?: string | null | undefined;
  connection: 'connecting' | 'connected' | 'waiting' | 'stopped';
  /** When the next attempt is due (waiting). */
  retryAt?: number | undefined;
  /** Why the last connection failed or ended. */
  lastProblem?: string | undefined;
  metrics?: NodeMetrics | undefined;
  nodeName?: string | undefined;
  spooled: number;
  shells: number;
  shellEnabled: boolean;
  logFile: string;
  /** Recent events, newest last. */
  events: string[];
  /** The last audit (its failed checks are shown with their fix). */
  audit?: AuditView | undefined;
}

const HEADLINE: Record<DaemonView['status'], string> = {
  unknown: 'Connecting to the server',
  pending: 'Waiting for approval',
  approved: 'Approved: joining the cluster',
  active: 'Active in the cluster',
  rejected: 'Not approved',
  revoked: 'Removed by the operations team',
};

const EXPLAIN: Record<DaemonView['status'], string> = {
  unknown: 'The agent is connecting to the server.',
  pending:
    'The operations team will review this machine. Leave it switched on and connected; nothing else is needed.',
  approved: 'This machine is approved. It is setting up its network link and joining the cluster.',
  active: 'This machine is part of the cluster and available for workloads. Leave it switched on.',
  rejected: 'This machine was not approved. Contact support with the node id below.',
  revoked: 'This machine was removed. It no longer connects. Contact support with the node id below.',
};

export function statusHeadline(view: Pick<DaemonView, 'status'>): string {
  return HEADLINE[view.status];
}

function connectionLine(view: DaemonView, now: number): string {
  switch (view.connection) {
    case 'connected':
      return 'Connection: connected';
    case 'connecting':
      return 'Connection: connecting ...';
    case 'stopped':
      return 'Connection: stopped';
    case 'waiting': {
      const seconds = Math.max(0, Math.ceil(((view.retryAt ?? now) - now) / 1000));
      return `Connection: lost; trying again in ${seconds} s`;
    }
  }
}

function metricsLines(metrics: NodeMetrics | undefined): string[] {
  if (!metrics) return ['Load:       -'];
  const gib = (b: number) => (b / 1024 ** 3).toFixed(1);
  const lines = [
    `Load:       ${metrics.load1.toFixed(2)} ${metrics.load5.toFixed(2)} ${metrics.load15.toFixed(2)}   ` +
      `Memory: ${gib(metrics.memUsedBytes)} / ${gib(metrics.memTotalBytes)} GiB`,
  ];
  for (const g of metrics.gpus.slice(0, 2)) {
    lines.push(
      `GPU ${g.index}:      ${Math.round(g.utilizationPct)}% busy, ${gib(g.memoryUsedBytes)} / ${gib(g.memoryTotalBytes)} GiB, ${Math.round(g.temperatureC)} °C`,
    );
  }
  if (metrics.gpus.length > 2) lines.push(`            and ${metrics.gpus.length - 2} more GPUs`);
  return lines;
}

export function renderStatusScreen(view: DaemonView, style: Style, now: number): string[] {
  const w = SCREEN_WIDTH;
  const bad = view.status === 'rejected' || view.status === 'revoked';
  const colour = bad ? style.red : view.status === 'active' ? style.green : style.yellow;
  const top = [
    style.bold('Home Node'),
    '',
    colour(style.bold(statusHeadline(view))),
    ...(view.reason ? wrapText(`Reason: ${view.reason}`, w).slice(0, 3) : []),
    ...wrapText(EXPLAIN[view.status], w).slice(0, 3),
    '',
    `Node id:    ${view.nodeId}`,
    `Server:     ${view.serverUrl}`.slice(0, w),
    ...(view.insecureHttp ? [style.red(style.bold(INSECURE_STATUS_LINE))] : []),
    connectionLine(view, now),
    ...(view.lastProblem && view.connection !== 'connected'
      ? wrapText(`Last problem: ${view.lastProblem}`, w).slice(0, 3)
      : []),
    `Cluster:    ${view.nodeName ? `joined as ${view.nodeName}` : 'not joined'}`.slice(0, w),
    ...metricsLines(view.metrics),
    `Reports:    ${view.spooled} waiting to be sent   Remote shell: ${view.shellEnabled ? `allowed (${view.shells} open)` : 'disabled'}`,
    ...(view.audit ? lastAuditLines(view.audit, w, 7) : []),
  ];
  const footer = [`Log: ${view.logFile}`.slice(0, w)];
  const room = SCREEN_ROWS - top.length - footer.length - 1;
  const events = room > 1 ? ['', ...view.events.slice(-(room - 1)).map((e) => style.dim(e.slice(0, w)))] : [];
  const lines = [...top, ...events];
  while (lines.length < SCREEN_ROWS - footer.length) lines.push('');
  return [...lines.slice(0, SCREEN_ROWS - footer.length), ...footer];
}

export const INSECURE_STATUS_LINE =
  'WARNING: plain http to the server: nothing is encrypted (allowInsecureHttp).';

/** One plain line for logs and non-terminal consoles: `2026-11-02T09:00:00.000Z message`. */
export function logLine(at: number, message: string): string {
  return `${new Date(at).toISOString()} ${message.replace(/\s*\n\s*/g, ' ')}`;
}
