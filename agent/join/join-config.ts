/**
 * What a `join` turns into on disk (pure): the WireGuard config for the overlay and the k3s agent
 * config with the Akash node labels. Both renderers check every field by pattern right before it is
 * written (protocol/join-fields.ts), whatever the schema said on the way in: wg-quick runs
 * `PostUp` lines as root, so a value with a newline must never reach the file. k3s strings are also
 * written as JSON-quoted YAML scalars.
 */
import { createHash } from 'node:crypto';
import type { JoinMessage } from '../../protocol/control.js';
import { assertJoinFields, requireJoinField } from '../../protocol/join-fields.js';

/** Lines as `Key = value`; refuses a value that could start a line of its own. */
function iniLine(key: string, value: string | number): string {
  const text = String(value);
  if (/[\r\n]/.test(text)) throw new Error(`${key} would span several lines`);
  return `${key} = ${text}`;
}

export function renderWireguardConfig(join: JoinMessage, privateKey: string): string {
  assertJoinFields(join);
  requireJoinField('the WireGuard private key', 'wireguardKey', privateKey);
  const n = join.network;
  return [
    '# Written by the Home Node agent from the server\'s "join" message. Do not edit.',
    '[Interface]',
    iniLine('PrivateKey', privateKey),
    iniLine('Address', n.address),
    '',
    '[Peer]',
    iniLine('PublicKey', n.hubPublicKey),
    iniLine('Endpoint', n.hubEndpoint),
    iniLine('AllowedIPs', n.allowedIps.join(', ')),
    iniLine('PersistentKeepalive', n.persistentKeepalive),
    '',
  ].join('\n');
}

const q = (value: string) => JSON.stringify(value);

/** The overlay address without its prefix (`100.64.0.7/32` → `100.64.0.7`). */
export const overlayIp = (address: string) => address.split('/')[0] ?? address;

export function renderK3sConfig(join: JoinMessage, wireguardInterface: string): string {
  assertJoinFields(join);
  requireJoinField('the WireGuard interface', 'interfaceName', wireguardInterface);
  const labels = Object.entries(join.labels)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `  - ${q(`${k}=${v}`)}`);
  return [
    '# Written by the Home Node agent from the server\'s "join" message. Do not edit.',
    `server: ${q(join.cluster.server)}`,
    `token: ${q(join.cluster.token)}`,
    `node-name: ${q(join.cluster.nodeName)}`,
    `node-ip: ${q(overlayIp(join.network.address))}`,
    `flannel-iface: ${q(wireguardInterface)}`,
    ...(labels.length ? ['node-label:', ...labels] : ['node-label: []']),
    '',
  ].join('\n');
}

/** A digest of everything a join applies, to tell a repeated identical join from a changed one. */
export function joinDigest(join: JoinMessage): string {
  const canonical = JSON.stringify({
    cluster: join.cluster,
    network: { ...join.network, allowedIps: [...join.network.allowedIps].sort() },
    labels: Object.fromEntries(Object.entries(join.labels).sort(([a], [b]) => (a < b ? -1 : 1))),
  });
  return createHash('sha256').update(canonical).digest('hex');
}
