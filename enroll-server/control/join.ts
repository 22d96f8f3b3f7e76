/** The `join` message: cluster endpoint and token, the node's overlay address, and its labels. */
import type { JoinMessage } from '../../protocol/control.js';
import { formatIpv4, parseCidr } from '../../protocol/cidr.js';
import type { ClusterConfig } from '../core/config.js';
import type { NodeNetwork } from './network-repository.js';
import type { NodeRecord } from '../nodes/node-repository.js';

/** The overlay address of slot `index` (`100.64.0.0/10`, 7 → `100.64.0.7`). */
export function overlayAddress(cidr: string, index: number): string {
  const range = parseCidr(cidr);
  if (!range) throw new Error(`overlay CIDR ${cidr} is not valid`);
  if (index >= 2 ** (32 - range.prefix) - 1)
    throw new Error(`overlay ${cidr} has no room for node number ${index}`);
  return formatIpv4(range.network + index);
}

export function buildJoinMessage(
  cluster: ClusterConfig,
  node: NodeRecord,
  network: NodeNetwork,
): JoinMessage {
  return {
    type: 'join',
    cluster: { server: cluster.server, token: cluster.token, nodeName: node.id.replace(/_/g, '-') },
    network: {
      address: `${overlayAddress(cluster.overlayCidr, network.overlayIndex)}/32`,
      hubPublicKey: cluster.hubPublicKey,
      hubEndpoint: cluster.hubEndpoint,
      allowedIps: [cluster.overlayCidr],
      persistentKeepalive: cluster.keepaliveSeconds,
    },
    labels: node.labels,
  };
}
