/**
 * The overlay hub's peers (pure): which nodes the hub must know, and their `[Peer]` sections as
 * `wg` reads them. The export holds peers only: the hub's private key never leaves the hub, so ops
 * put the hub's own `[Interface]` in front (`wg-quick strip hub0`) before `wg syncconf`, which
 * would otherwise drop the key (docs/node-software.md "The WireGuard hub").
 */
import { isJoinField } from '../../protocol/join-fields.js';
import type { NodeNetwork } from './network-repository.js';
import { overlayAddress } from './overlay.js';

export interface HubPeer {
  nodeId: string;
  status: string;
  publicKey: string;
  allowedIps: string;
}

/** Statuses whose nodes are in the overlay (a pending, rejected or revoked node is not). */
const IN_OVERLAY = new Set(['approved', 'active']);

/** The peers the hub must have: joined nodes that are approved or active, with a valid key. */
export function hubPeers(rows: (NodeNetwork & { status: string })[], overlayCidr: string): HubPeer[] {
  return rows.flatMap((row) =>
    row.wireguardPublicKey &&
    IN_OVERLAY.has(row.status) &&
    isJoinField('wireguardKey', row.wireguardPublicKey)
      ? [
          {
            nodeId: row.nodeId,
            status: row.status,
            publicKey: row.wireguardPublicKey,
            allowedIps: `${overlayAddress(overlayCidr, row.overlayIndex)}/32`,
          },
        ]
      : [],
  );
}

/** Node ids are ours (`node_…`), but a comment is a line too: only safe characters reach it. */
const commentText = (text: string) => text.replace(/[^A-Za-z0-9_.:-]/g, '?');

/** The `[Peer]` sections, one per node, in `wg setconf` / `wg syncconf` syntax. */
export function renderHubPeers(peers: HubPeer[], generatedAt: string): string {
  const lines = [
    `# Home Node overlay peers (${peers.length}), ${generatedAt}.`,
    "# Peers only: put the hub's [Interface] first (wg-quick strip hub0) before wg syncconf.",
  ];
  if (peers.length === 0) lines.push('# No node has joined the overlay yet.');
  for (const peer of peers) {
    lines.push(
      '',
      `# ${commentText(peer.nodeId)} (${commentText(peer.status)})`,
      '[Peer]',
      `PublicKey = ${peer.publicKey}`,
      `AllowedIPs = ${peer.allowedIps}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
