/**
 * What a `join` turns into on disk (pure): the WireGuard config for the overlay and the k3s agent
 * config with the Akash node labels. Strings are written as JSON-quoted YAML scalars, so a token or
 * label can never break the file's structure.
 */
import { createHash } from 'node:crypto';
import type { JoinMessage } from '../../protocol/control.js';

export function renderWireguardConfig(join: JoinMessage, privateKey: string): string {
  const n = join.network;
  return [
    '# Written by the Home Node agent from the server\'s "join" message. Do not edit.',
    '[Interface]',
    `PrivateKey = ${privateKey}`,
    `Address = ${n.address}`,
    '',
    '[Peer]',
    `PublicKey = ${n.hubPublicKey}`,
    `Endpoint = ${n.hubEndpoint}`,
    `AllowedIPs = ${n.allowedIps.join(', ')}`,
    `PersistentKeepalive = ${n.persistentKeepalive}`,
    '',
  ].join('\n');
}

const q = (value: string) => JSON.stringify(value);

/** The overlay address without its prefix (`100.64.0.7/32` → `100.64.0.7`). */
export const overlayIp = (address: string) => address.split('/')[0] ?? address;

export function renderK3sConfig(join: JoinMessage, wireguardInterface: string): string {
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
