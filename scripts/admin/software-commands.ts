/**
 * Operator CLI: software for the nodes (artifacts, the release key) and the WireGuard hub's peers
 * (docs/node-software.md).
 */
import { existsSync, statSync } from 'node:fs';
import { type Command, type Row, query, str } from './command.js';
import { record, table } from './format.js';

const mb = (bytes: unknown) => (typeof bytes === 'number' ? `${(bytes / 1e6).toFixed(1)} MB` : '-');

export const SOFTWARE_COMMANDS: Command[] = [
  {
    name: 'artifacts upload',
    summary: 'Upload FILE as an artifact (k3s, homenode-iso, a runtime package); signed by the server',
    args: ['FILE'],
    options: {
      name: { type: 'string', description: 'artifact name, e.g. k3s or homenode-iso', required: true },
      version: {
        type: 'string',
        description: 'its version, e.g. v1.31.4+k3s1 (never reused)',
        required: true,
      },
    },
    run: async (ctx) => {
      const file = ctx.args[0] ?? '';
      if (!existsSync(file) || !statSync(file).isFile()) throw new Error(`${file} is not a file.`);
      const path = `/v1/artifacts${query({ name: str(ctx.options.name), version: str(ctx.options.version) })}`;
      return ctx.api.upload(path, file);
    },
    render: (r: Row) =>
      `Uploaded ${String(r.name)} ${String(r.version)} (${mb(r.size)}), signed by the release key.\n${record({
        sha256: r.sha256,
        size: r.size,
        url: r.url,
      })}`,
  },
  {
    name: 'artifacts list',
    summary: 'List the uploaded artifacts, newest first',
    options: { name: { type: 'string', description: 'only this name' } },
    run: ({ api, options }) => api.request('GET', `/v1/artifacts${query({ name: str(options.name) })}`),
    render: (r: { artifacts: Row[] }) =>
      table(
        r.artifacts.map((a) => ({ ...a, size: mb(a.size) })),
        ['name', 'version', 'size', 'sha256', 'uploadedAt'],
      ),
  },
  {
    name: 'release-key',
    summary: "Show the release key's public JWK (build:iso --release-key takes it as a file)",
    run: ({ api }) => api.request('GET', '/v1/release-key'),
    render: (r: { publicKey: Row }) => JSON.stringify(r.publicKey),
  },
  {
    name: 'wireguard-peers',
    summary: "The overlay hub's WireGuard peers: --format wg for wg syncconf (default), table",
    options: { format: { type: 'string', description: 'wg (the [Peer] sections) or table' } },
    run: async ({ api, options }) => {
      const format = str(options.format) ?? 'wg';
      if (format !== 'wg' && format !== 'table')
        throw new Error(`--format must be wg or table, not "${format}".`);
      return format === 'wg'
        ? { text: await api.text('/v1/wireguard/peers?format=wg') }
        : api.request<{ peers: Row[] }>('GET', '/v1/wireguard/peers');
    },
    render: (r: { peers?: Row[]; text?: string }) =>
      r.text !== undefined
        ? r.text.trimEnd()
        : table(r.peers ?? [], ['nodeId', 'status', 'publicKey', 'allowedIps']),
  },
];
