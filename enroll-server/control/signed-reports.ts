/**
 * Signed reports from nodes: usage (stored once per node and seq, never overlapping another stored
 * window of the node's, never ending in the future) and hardware snapshots (a change
 * of GPU model or count sends an approved node back to pending). Each is a compact JWS (EdDSA)
 * verified against the node's own public key.
 */
import { compactVerify, importJWK } from 'jose';
import { Compile } from 'typebox/compile';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import {
  HardwareSnapshotPayloadSchema,
  MAX_USAGE_WINDOW_MS,
  USAGE_REFUSAL_CODES,
  UsageReportPayloadSchema,
} from '../../protocol/control.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { Transactional } from '../core/transactions.js';
import { gpuSignature } from '../nodes/gpu-signature.js';
import { knownHardware } from '../nodes/hardware-facts.js';
import { historyWrite } from '../nodes/hardware-history.js';
import type { NodeEvents } from '../nodes/node-events.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { UsageRepository } from './usage-repository.js';

const checkUsage = Compile(UsageReportPayloadSchema);
const checkSnapshot = Compile(HardwareSnapshotPayloadSchema);

export type ReportResult =
  { ok: true; stored?: boolean; changed?: boolean; snapshotChanged?: boolean } | { ok: false; error: string };

type UsageRefusalCode = (typeof USAGE_REFUSAL_CODES)[keyof typeof USAGE_REFUSAL_CODES];
export type UsageResult =
  { ok: true; stored: boolean } | { ok: false; code: UsageRefusalCode; error: string };
const { INVALID, OVERLAP, FUTURE } = USAGE_REFUSAL_CODES;

export interface SignedReportDeps {
  repos: Transactional<{ nodes: NodeRepository; usage: UsageRepository; activity: ActivityLog }>;
  now: () => number;
  /** How far a report's end may lie past the server's clock (the policy's allowed clock skew). */
  maxClockSkewMs: number;
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
    async usage(nodeId: string, seq: number, jws: string): Promise<UsageResult> {
      const refuse = (code: UsageRefusalCode, error: string): UsageResult => ({ ok: false, code, error });
      let payload: unknown;
      try {
        payload = await verified(nodeId, jws);
      } catch {
        return refuse(INVALID, 'The usage report signature does not verify with this node key.');
      }
      if (!checkUsage.Check(payload)) return refuse(INVALID, 'The usage report payload is not valid.');
      if (payload.nodeId !== nodeId || payload.seq !== seq)
        return refuse(INVALID, 'The usage report is for another node or sequence number.');
      const fromAt = Date.parse(payload.from);
      const toAt = Date.parse(payload.to);
      if (!(fromAt < toAt) || toAt - fromAt > MAX_USAGE_WINDOW_MS)
        return refuse(INVALID, 'The usage report interval is not valid.');
      const windowSeconds = Math.floor((toAt - fromAt) / 1000);
      if (payload.workloads.some((w) => w.seconds > windowSeconds)) {
        return refuse(
          INVALID,
          `A workload in usage report ${seq} claims more seconds than its ${windowSeconds} s window.`,
        );
      }
      const receivedAt = now();
      if (toAt > receivedAt + deps.maxClockSkewMs) {
        return refuse(
          FUTURE,
          `Usage report ${seq} ends at ${payload.to}, after the server's time ${new Date(receivedAt).toISOString()} plus the allowed clock skew of ${deps.maxClockSkewMs / 1000} s. Check this machine's clock (timedatectl); the report is not stored.`,
        );
      }
      const result = await repos.usage.store(
        { nodeId, seq, fromAt, toAt, workloads: payload.workloads, receivedAt },
        jws,
      );
      if (result.outcome === 'overlap') {
        return refuse(
          OVERLAP,
          `Usage report ${seq} (${payload.from} – ${payload.to}) overlaps report ${result.seq} (${new Date(result.fromAt).toISOString()} – ${new Date(result.toAt).toISOString()}), already stored for this node; a window is never paid twice, so it is not stored.`,
        );
      }
      if (result.outcome === 'stored') deps.onStored();
      return { ok: true, stored: result.outcome === 'stored' };
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
      const hardware = knownHardware(payload.hardware);
      const profile = deriveProviderProfile(hardware);
      const after = gpuSignature(hardware);
      // Read and write in one transaction: a concurrent approval cannot slip in between.
      const outcome = await repos.transaction(async (tx) => {
        const node = await tx.nodes.get(nodeId);
        if (!node) return undefined;
        const before = gpuSignature(node.hardware);
        const snapshotChanged = JSON.stringify(node.hardware) !== JSON.stringify(payload.hardware);
        const reason = `GPUs changed: was ${before || 'none'}, now ${after || 'none'}. Approve again if this is expected.`;
        let changedStatus = false;
        const latest = await tx.nodes.latestHardware(nodeId);
        await tx.nodes.updateHardware(
          nodeId,
          { hardware, attributes: profile.attributes, labels: profile.labels },
          at,
          historyWrite(latest, node, hardware),
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
