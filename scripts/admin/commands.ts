/** The operator CLI's commands: each maps options to one API call and prints a table or JSON. */
import { writeFileSync } from 'node:fs';
import { weekContaining } from '../../protocol/periods.js';
import type { ApiClient } from './client.js';
import { restoreBackup } from './restore.js';
import { record, table } from './format.js';

export type OptionSpec = Record<
  string,
  { type: 'string' | 'boolean'; description: string; required?: boolean }
>;

export interface CommandContext {
  api: ApiClient;
  options: Record<string, string | boolean | undefined>;
  args: string[];
}

export interface Command {
  name: string;
  summary: string;
  args?: string[];
  /** Works on local files: needs no server URL or token. */
  local?: boolean;
  options?: OptionSpec;
  run(ctx: CommandContext): Promise<unknown>;
  /** Human output; JSON is printed as is with --json. */
  render?(result: never): string;
}

type Row = Record<string, unknown>;
const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (name: string, v: string | boolean | undefined): number | undefined => {
  if (typeof v !== 'string') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`--${name} must be a whole number, not "${v}"`);
  return n;
};
const query = (params: Record<string, string | number | boolean | undefined>): string => {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined) as [
    string,
    string | number | boolean,
  ][];
  return entries.length ? `?${new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString()}` : '';
};
const id = (ctx: CommandContext): string => encodeURIComponent(ctx.args[0] ?? '');

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

/** Integer uusd string → "$12.345678" (exact). */
function usd(uusd: string): string {
  const v = BigInt(uusd);
  const abs = v < 0n ? -v : v;
  return `${v < 0n ? '-' : ''}$${abs / 1_000_000n}.${(abs % 1_000_000n).toString().padStart(6, '0')}`;
}

function statementSummary(s: {
  periodId: string;
  status: string;
  hash?: string;
  rateCardVersion: number;
  lines: Row[];
  totals: Row;
}): string {
  const rows = s.lines.map((l) => ({ ...l, total: usd(String(l.totalUusd)) }));
  return [
    `Period ${s.periodId}: ${s.status}, rate card ${s.rateCardVersion}${s.hash ? `, hash ${s.hash}` : ''}`,
    table(rows, [
      'nodeId',
      'ownerId',
      'gpuClass',
      'upMinutes',
      'creditedMinutes',
      'uptimeTier',
      'workloadGpuMinutes',
      'total',
    ]),
    `Total ${usd(String(s.totals.totalUusd))} over ${String(s.totals.nodes)} node(s)`,
  ].join('\n');
}

export const COMMANDS: Command[] = [
  {
    name: 'me',
    summary: 'Show the role and owner of the token in use',
    run: ({ api }) => api.request('GET', '/v1/me'),
    render: (r: Row) => record(r),
  },
  {
    name: 'owners create',
    summary: 'Create an owner (a home user)',
    options: {
      email: { type: 'string', description: 'email address', required: true },
      name: { type: 'string', description: 'display name', required: true },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/owners', { email: str(options.email), name: str(options.name) }),
    render: (r: Row) => record(r),
  },
  {
    name: 'owners list',
    summary: 'List owners',
    options: { q: { type: 'string', description: 'search email or name' } },
    run: ({ api, options }) => api.request('GET', `/v1/owners${query({ q: str(options.q) })}`),
    render: (r: { owners: Row[] }) => table(r.owners, ['id', 'email', 'name', 'createdAt']),
  },
  {
    name: 'tokens create',
    summary: 'Create an API token (printed once: store it)',
    options: {
      role: { type: 'string', description: 'admin, ops, reviewer or owner', required: true },
      owner: { type: 'string', description: 'owner id (for role owner)' },
      label: { type: 'string', description: 'what the token is for' },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/tokens', {
        role: str(options.role),
        ownerId: str(options.owner),
        label: str(options.label),
      }),
    render: (r: Row) => `${record(r)}\n\nThe token is shown only this once.`,
  },
  {
    name: 'tokens list',
    summary: 'List API tokens (never their secrets)',
    run: ({ api }) => api.request('GET', '/v1/tokens'),
    render: (r: { tokens: Row[] }) =>
      table(r.tokens, ['id', 'role', 'ownerId', 'label', 'createdAt', 'revokedAt']),
  },
  {
    name: 'tokens revoke',
    summary: 'Revoke an API token',
    args: ['TOKEN_ID'],
    run: (ctx) => ctx.api.request('DELETE', `/v1/tokens/${id(ctx)}`),
    render: (r: Row) => record(r),
  },
  {
    name: 'keys create',
    summary: 'Create an installation key for an owner (printed once)',
    options: {
      owner: { type: 'string', description: 'owner id (staff tokens)' },
      'ttl-hours': { type: 'string', description: 'hours until it expires (default 168)' },
      'max-uses': { type: 'string', description: 'machines it may enroll (default 1)' },
      label: { type: 'string', description: 'a note for the owner' },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/keys', {
        ownerId: str(options.owner),
        ttlHours: int('ttl-hours', options['ttl-hours']),
        maxUses: int('max-uses', options['max-uses']),
        label: str(options.label),
      }),
    render: (r: Row) =>
      `Installation key (shown only this once):\n\n    ${String(r.key)}\n\nexpires ${String(r.expiresAt)}, enrolls up to ${String(r.maxUses)} machine(s), id ${String(r.id)}`,
  },
  {
    name: 'keys list',
    summary: 'List installation keys',
    options: { owner: { type: 'string', description: 'only this owner' } },
    run: ({ api, options }) => api.request('GET', `/v1/keys${query({ ownerId: str(options.owner) })}`),
    render: (r: { keys: Row[] }) =>
      table(r.keys, ['id', 'masked', 'ownerId', 'state', 'uses', 'maxUses', 'expiresAt', 'label']),
  },
  {
    name: 'keys revoke',
    summary: 'Revoke an installation key',
    args: ['KEY_ID'],
    run: (ctx) => ctx.api.request('DELETE', `/v1/keys/${id(ctx)}`),
    render: (r: Row) => record(r),
  },
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
    options: { note: { type: 'string', description: 'a note for the audit log' } },
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
    summary: 'Show the audit log, newest first',
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
  {
    name: 'wireguard-peers',
    summary: "Print the overlay hub's WireGuard [Peer] sections for the nodes that joined",
    run: ({ api }) => api.request('GET', '/v1/wireguard/peers'),
    render: (r: { peers: { nodeId: string; status: string; publicKey: string; allowedIps: string }[] }) =>
      r.peers.length === 0
        ? '# no node has joined the overlay yet'
        : r.peers
            .map(
              (p) =>
                `# ${p.nodeId} (${p.status})\n[Peer]\nPublicKey = ${p.publicKey}\nAllowedIPs = ${p.allowedIps}\n`,
            )
            .join('\n'),
  },
  {
    name: 'payouts create',
    summary:
      'Create a payout period: --week DATE (the Monday-to-Monday UTC week containing it) or --start and --end',
    options: {
      week: { type: 'string', description: 'a date in the week, e.g. 2026-11-16' },
      start: { type: 'string', description: 'ISO start (whole minutes, UTC)' },
      end: { type: 'string', description: 'ISO end' },
    },
    run: ({ api, options }) => {
      const week = str(options.week);
      if (week !== undefined) {
        const at = Date.parse(week);
        if (Number.isNaN(at)) throw new Error(`--week must be a date such as 2026-11-16, not "${week}"`);
        const range = weekContaining(at);
        return api.request('POST', '/v1/payout-periods', {
          start: new Date(range.start).toISOString(),
          end: new Date(range.end).toISOString(),
        });
      }
      if (!str(options.start) || !str(options.end))
        throw new Error('Give --week DATE, or both --start and --end.');
      return api.request('POST', '/v1/payout-periods', { start: str(options.start), end: str(options.end) });
    },
    render: (r: Row) => record(r),
  },
  {
    name: 'payouts list',
    summary: 'List payout periods',
    run: ({ api }) => api.request('GET', '/v1/payout-periods'),
    render: (r: { periods: Row[] }) =>
      table(r.periods, ['id', 'start', 'end', 'status', 'rateCardVersion', 'hash']),
  },
  {
    name: 'payouts compute',
    summary: 'Compute (or recompute) a period that is not locked',
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('POST', `/v1/payout-periods/${id(ctx)}/compute`),
    render: statementSummary,
  },
  {
    name: 'payouts lock',
    summary: 'Lock an ended period: its statement and hash never change again',
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('POST', `/v1/payout-periods/${id(ctx)}/lock`),
    render: statementSummary,
  },
  {
    name: 'payouts verify',
    summary: 'Recompute a locked period and compare its hash',
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('POST', `/v1/payout-periods/${id(ctx)}/verify`),
    render: (r: Row) =>
      r.matches
        ? `OK: recomputed hash ${String(r.recomputedHash)} matches`
        : `MISMATCH: locked ${String(r.hash)}, recomputed ${String(r.recomputedHash)}`,
  },
  {
    name: 'payouts statement',
    summary: "Show a period's statement",
    args: ['PERIOD_ID'],
    run: (ctx) => ctx.api.request('GET', `/v1/payout-periods/${id(ctx)}/statement`),
    render: statementSummary,
  },
  {
    name: 'payouts export',
    summary: "Write a period's statement to a file as CSV or JSON",
    args: ['PERIOD_ID'],
    options: {
      format: { type: 'string', description: 'csv (default) or json' },
      out: { type: 'string', description: 'the file to write', required: true },
    },
    run: async (ctx) => {
      const format = str(ctx.options.format) ?? 'csv';
      if (format !== 'csv' && format !== 'json')
        throw new Error(`--format must be csv or json, not "${format}"`);
      const body = await ctx.api.request<unknown>('GET', `/v1/payout-periods/${id(ctx)}/export.${format}`);
      const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
      const out = str(ctx.options.out) ?? '';
      writeFileSync(out, text);
      return { file: out, format, bytes: Buffer.byteLength(text) };
    },
    render: (r: Row) =>
      `Wrote ${String(r.bytes)} bytes of ${String(r.format).toUpperCase()} to ${String(r.file)}`,
  },
  {
    name: 'rate-cards list',
    summary: 'List rate card versions',
    run: ({ api }) => api.request('GET', '/v1/rate-cards'),
    render: (r: { rateCards: Row[] }) => table(r.rateCards, ['version', 'effectiveFrom', 'rates', 'note']),
  },
  {
    name: 'rate-cards add',
    summary: 'Add a rate card version from a JSON file ({ effectiveFrom, rates, note? })',
    options: { file: { type: 'string', description: 'the JSON file', required: true } },
    run: async ({ api, options }) => {
      const { readFileSync } = await import('node:fs');
      return api.request(
        'POST',
        '/v1/rate-cards',
        JSON.parse(readFileSync(str(options.file) ?? '', 'utf8')) as unknown,
      );
    },
    render: (r: Row) => `Rate card version ${String(r.version)} in force from ${String(r.effectiveFrom)}`,
  },
  {
    name: 'adjustments add',
    summary: 'Add a correction for a node (lands in the next period that is not locked)',
    options: {
      node: { type: 'string', description: 'node id', required: true },
      'amount-uusd': {
        type: 'string',
        description: 'integer micro-USD, negative to take back',
        required: true,
      },
      reason: { type: 'string', description: 'why', required: true },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/adjustments', {
        nodeId: str(options.node),
        amountUusd: str(options['amount-uusd']),
        reason: str(options.reason),
      }),
    render: (r: Row) =>
      `${record(r)}${r.periodId ? '' : '\n(waits for the next payout period to be created)'}`,
  },
  {
    name: 'outages add',
    summary: 'Declare a platform outage window (credited to nodes up right before it)',
    options: {
      start: { type: 'string', description: 'ISO start', required: true },
      end: { type: 'string', description: 'ISO end', required: true },
      reason: { type: 'string', description: 'what happened', required: true },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/outages', {
        start: str(options.start),
        end: str(options.end),
        reason: str(options.reason),
      }),
    render: (r: Row) => record(r),
  },
  {
    name: 'outages list',
    summary: 'List declared outages',
    run: ({ api }) => api.request('GET', '/v1/outages'),
    render: (r: { outages: Row[] }) => table(r.outages, ['id', 'start', 'end', 'reason', 'createdAt']),
  },
  {
    name: 'earnings',
    summary: "An owner's earnings per period (owners: their own; staff: --owner)",
    options: { owner: { type: 'string', description: 'owner id (staff tokens)' } },
    run: ({ api, options }) => api.request('GET', `/v1/earnings${query({ ownerId: str(options.owner) })}`),
    render: (r: { periods: Row[] }) =>
      table(
        r.periods.map((p) => ({
          ...p,
          total: usd(String(p.totalUusd)),
          lines: (p.lines as unknown[]).length,
        })),
        ['periodId', 'start', 'end', 'status', 'estimate', 'lines', 'total'],
      ),
  },
  {
    name: 'backup',
    summary: "Download a consistent backup of the server's database (admin) to FILE",
    args: ['FILE'],
    run: async (ctx) => {
      const bytes = await ctx.api.download('/v1/admin/backup');
      const file = ctx.args[0] ?? '';
      writeFileSync(file, bytes, { mode: 0o600 });
      return { file, bytes: bytes.length };
    },
    render: (r: Row) =>
      `Wrote a ${String(r.bytes)}-byte backup to ${String(r.file)}. Restore it with: npm run admin -- restore ${String(r.file)} --db PATH`,
  },
  {
    name: 'restore',
    summary: "Put a backup in place of a STOPPED server's database (local; needs no server or token)",
    args: ['FILE'],
    local: true,
    options: {
      db: { type: 'string', description: 'the database file to replace (HOMENODE_DB)', required: true },
      force: { type: 'boolean', description: 'replace an existing database' },
    },
    run: (ctx) =>
      Promise.resolve(
        restoreBackup(ctx.args[0] ?? '', str(ctx.options.db) ?? '', ctx.options.force === true),
      ),
    render: (r: Row) =>
      `Restored ${String(r.file)} to ${String(r.db)} (schema ${String(r.schemaVersion)}, ${String(r.owners)} owners, ${String(r.nodes)} nodes). Start the server.`,
  },
  {
    name: 'policy',
    summary: 'Show the hardware policy the server enforces',
    run: ({ api }) => api.request('GET', '/v1/policy'),
    render: (r: { policy: Row; serverTime: string }) => `${record(r.policy)}\nserverTime  ${r.serverTime}`,
  },
];
