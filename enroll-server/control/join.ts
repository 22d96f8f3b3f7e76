/**
 * The `join` message: cluster endpoint and token, the node's overlay address, its labels, and the
 * software it installs first (the k3s artifact and runtime packages, chosen by `JoinSoftwareSource`,
 * which the artifacts capability implements and app.ts wires in).
 */
import type { ArtifactRef, JoinMessage, PackageRef } from '../../protocol/control.js';
import type { ClusterConfig } from '../core/config.js';
import type { NodeNetwork } from '../network/network-repository.js';
import { overlayAddress } from '../network/overlay.js';
import type { NodeRecord } from '../nodes/node-repository.js';

/** What a join installs before k3s starts. */
export interface JoinSoftware {
  k3s?: ArtifactRef;
  packages: PackageRef[];
}

/** Chooses the software every join names (asked once per join sent). */
export type JoinSoftwareSource = () => Promise<JoinSoftware>;

export function buildJoinMessage(
  cluster: ClusterConfig,
  node: NodeRecord,
  network: NodeNetwork,
  software: JoinSoftware = { packages: [] },
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
    ...(software.k3s ? { k3s: software.k3s } : {}),
    ...(software.packages.length > 0 ? { packages: software.packages } : {}),
  };
}
