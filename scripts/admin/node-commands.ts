/** Operator CLI: nodes, approvals, the activity log, commands to nodes and the WireGuard peers. */
import { type Command, type Row, id, int, query, str } from './command.js';
import { record, table } from './format.js';

const NODE_COLUMNS = ['id', 'status', 'online', 'gpus', 'ownerId', 'lastSeenAt', 'enrolledAt'];
const nodeRows = (r: { nodes: Row[]; total: number }) =>
  `${table(
    r.nodes.map((n) => ({
      ...n,
      gpus:
        (n.gpus as { model: string; count: number }[]).map((g) => `${g.count}x ${g.model}`).join(', ') ||
        'none',
    })),
    NODE_COLUMNS,
  )}\n${r.nodes.length} of ${r.total} node(s)`;
const nodeDetail = (n: Row) => {
  const { hardware: _h, preflight, attributes: _a, labels, ...rest } = n;
  const checks = (preflight as { id: string; status: string; summary: string }[]).map(
    (c) => `  ${c.status.toUpperCase().padEnd(4)} ${c.id}: ${c.summary}`,
  );
  return `${record(rest)}\nlabels:\n${Object.entries(labels as Row)
    .map(([k, v]) => `  ${k}=${String(v)}`)
    .join('\n')}\npreflight:\n${checks.join('\n')}`;
};

export const NODE_COMMANDS: Command[] = [
  {
    name: 'nodes list',
    summary: 'List nodes',
    options: {
      status: { type: 'string', description: 'pending, approved, active, rejected or revoked' },
      online: { type: 'boolean', description: 'only nodes online now' },
      offline: { type: 'boolean', description: 'only nodes offline now' },
      q: { type: 'string', description: 'search id, owner, GPU model' },
    },
    run: ({ api, options }) =>
      api.request(
        'GET',
        `/v1/nodes${query({ status: str(options.status), q: str(options.q), online: options.online ? true : options.offline ? false : undefined })}`,
      ),
    render: nodeRows,
  },
  {
    name: 'nodes show',
    summary: 'Show one node',
    args: ['NODE_ID'],
    run: (ctx) => ctx.api.request('GET', `/v1/nodes/${id(ctx)}`),
    render: nodeDetail,
  },
  {
    name: 'approve',
    summary: 'Approve a pending node',
    args: ['NODE_ID'],
    options: { note: { type: 'string', description: 'a note for the activity log' } },
    run: (ctx) => ctx.api.request('POST', `/v1/nodes/${id(ctx)}/approve`, { note: str(ctx.options.note) }),
    render: (r: Row) => `Node ${String(r.id)} is now ${String(r.status)}.`,
  },
  {
    name: 'reject',
    summary: 'Reject a pending node (the reason is shown on its screen)',
    args: ['NODE_ID'],
    options: {
      reason: { type: 'string', description: 'why, in words the owner understands', required: true },
    },
    run: (ctx) => ctx.api.request('POST', `/v1/nodes/${id(ctx)}/reject`, { reason: str(ctx.options.reason) }),
    render: (r: Row) => `Node ${String(r.id)} is now ${String(r.status)}.`,
  },
  {
    name: 'revoke',
    summary: 'Revoke a node: it is disconnected and may not connect again',
    args: ['NODE_ID'],
    options: { reason: { type: 'string', description: 'why', required: true } },
    run: (ctx) => ctx.api.request('POST', `/v1/nodes/${id(ctx)}/revoke`, { reason: str(ctx.options.reason) }),
    render: (r: Row) => `Node ${String(r.id)} is now ${String(r.status)}.`,
  },
  {
    name: 'audit',
    summary: 'Show the activity log (who did what), newest first',
    options: {
      target: { type: 'string', description: 'only entries about this node/key/token id' },
      action: { type: 'string', description: 'only this action, e.g. node.approved' },
      limit: { type: 'string', description: 'how many (default 50)' },
    },
    run: ({ api, options }) =>
      api.request(
        'GET',
        `/v1/audit${query({ targetId: str(options.target), action: str(options.action), limit: int('limit', options.limit) ?? 50 })}`,
      ),
    render: (r: { entries: Row[] }) =>
      table(
        r.entries.map((e) => {
          const actor = e.actor as { type: string; role?: string | null; id?: string | null };
          return { ...e, actor: `${actor.type}:${actor.role ?? actor.id ?? ''}` };
        }),
        ['at', 'actor', 'action', 'targetType', 'targetId', 'details'],
      ),
  },
  {
    name: 'command',
    summary:
      'Send a command to a node (run-preflight, collect-diagnostics, restart-agent, reboot, leave-cluster, cordon, uncordon, drain)',
    args: ['NODE_ID', 'COMMAND'],
    run: (ctx) => ctx.api.request('POST', `/v1/nodes/${id(ctx)}/commands`, { type: ctx.args[1] }),
    render: (r: Row) =>
      `${String(r.type)} ${r.ok ? 'succeeded' : 'failed'} (command ${String(r.id)})\n${typeof r.output === 'string' ? r.output : ''}${typeof r.error === 'string' ? `\nerror: ${r.error}` : ''}`.trimEnd(),
  },
];
