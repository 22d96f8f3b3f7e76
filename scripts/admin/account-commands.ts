/** Operator CLI: who am I, owners, API tokens and installation keys. */
import { type Command, type Row, id, int, query, str } from './command.js';
import { record, table } from './format.js';

export const ACCOUNT_COMMANDS: Command[] = [
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
];
