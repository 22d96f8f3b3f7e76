/**
 * Signed reports from nodes: usage (stored once per node and seq) and hardware snapshots (a change
 * of GPU model or count sends an approved node back to pending). Each is a compact JWS (EdDSA)
 * verified against the node's own public key.
 */
import { compactVerify, importJWK } from 'jose';
import { Compile } from 'typebox/compile';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import {
  HardwareSnapshotPayloadSchema,
  MAX_USAGE_WINDOW_MS,
  UsageReportPayloadSchema,
} from '../../protocol/control.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { Transactional } from '../core/transactions.js';
import { gpuSignature } from '../nodes/gpu-signature.js';
import type { NodeEvents } from '../nodes/node-events.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { UsageRepository } from './usage-repository.js';

const checkUsage = Compile(UsageReportPayloadSchema);
const checkSnapshot = Compile(HardwareSnapshotPayloadSchema);

export type ReportResult =
  { ok: true; stored?: boolean; changed?: boolean; snapshotChanged?: boolean } | { ok: false; error: string };

export interface SignedReportDeps {
  repos: Transactional<{ nodes: NodeRepository; usage: UsageRepository; activity: ActivityLog }>;
  now: () => number;
  events: NodeEvents;
  /** A report was stored for the first time (metrics). */
  onStored: () => void;
}

export function createSignedReports(deps: SignedReportDeps) {
  const { repos, now } = deps;

  async function verified(nodeId: string, jws: string): Promise<unknown> {
    const node = await repos.nodes.get(nodeId);
    if (!node) throw new Error('unknown node');
    const { payload, protectedHeader } = await compactVerify(jws, await importJWK(node.publicKey, 'EdDSA'), {
      algorithms: ['EdDSA'],
    });
    if (protectedHeader.alg !== 'EdDSA') throw new Error('wrong algorithm');
    return JSON.parse(new TextDecoder().decode(payload));
  }

  return {
    async usage(nodeId: string, seq: number, jws: string): Promise<ReportResult> {
      let payload: unknown;
      try {
        payload = await verified(nodeId, jws);
      } catch {
        return { ok: false, error: 'The usage report signature does not verify with this node key.' };
      }
      if (!checkUsage.Check(payload)) return { ok: false, error: 'The usage report payload is not valid.' };
      if (payload.nodeId !== nodeId || payload.seq !== seq)
        return { ok: false, error: 'The usage report is for another node or sequence number.' };
      const fromAt = Date.parse(payload.from);
      const toAt = Date.parse(payload.to);
      if (!(fromAt < toAt) || toAt - fromAt > MAX_USAGE_WINDOW_MS)
        return { ok: false, error: 'The usage report interval is not valid.' };
      const windowSeconds = Math.floor((toAt - fromAt) / 1000);
      if (payload.workloads.some((w) => w.seconds > windowSeconds)) {
        return {
          ok: false,
          error: `A workload in usage report ${seq} claims more seconds than its ${windowSeconds} s window.`,
        };
      }
      const stored = await repos.usage.store(
        { nodeId, seq, fromAt, toAt, workloads: payload.workloads, receivedAt: now() },
        jws,
      );
      if (stored) deps.onStored();
      return { ok: true, stored };
    },

    async hardware(nodeId: string, jws: string): Promise<ReportResult> {
      let payload: unknown;
      try {
        payload = await verified(nodeId, jws);
      } catch {
        return { ok: false, error: 'The hardware snapshot signature does not verify with this node key.' };
      }
      if (!checkSnapshot.Check(payload) || payload.nodeId !== nodeId)
        return { ok: false, error: 'The hardware snapshot is not valid.' };
      const at = now();
      const profile = deriveProviderProfile(payload.hardware);
      const after = gpuSignature(payload.hardware);
      // Read and write in one transaction: a concurrent approval cannot slip in between.
      const outcome = await repos.transaction(async (tx) => {
        const node = await tx.nodes.get(nodeId);
        if (!node) return undefined;
        const before = gpuSignature(node.hardware);
        const snapshotChanged = JSON.stringify(node.hardware) !== JSON.stringify(payload.hardware);
        const reason = `GPUs changed: was ${before || 'none'}, now ${after || 'none'}. Approve again if this is expected.`;
        let changedStatus = false;
        await tx.nodes.updateHardware(
          nodeId,
          { hardware: payload.hardware, attributes: profile.attributes, labels: profile.labels },
          at,
        );
        if (before !== after) {
          await tx.activity.record(
            at,
            { type: 'node', id: nodeId },
            'node.hardware_changed',
            { type: 'node', id: nodeId },
            { before, after },
          );
          for (const from of ['approved', 'active'] as const) {
            if (await tx.nodes.transition(nodeId, from, 'pending', reason, 'system', at))
              changedStatus = true;
          }
        }
        return { changed: before !== after, changedStatus, reason, snapshotChanged };
      });
      if (!outcome) return { ok: false, error: 'unknown node' };
      const { changedStatus, reason } = outcome;
      if (changedStatus) deps.events.emit({ nodeId, status: 'pending', reason });
      return { ok: true, changed: outcome.changed, snapshotChanged: outcome.snapshotChanged };
    },
  };
}
export type SignedReports = ReturnType<typeof createSignedReports>;
