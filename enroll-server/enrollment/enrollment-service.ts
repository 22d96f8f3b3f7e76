/**
 * Enrollment (DESIGN.md "HTTP API", "Node identity"): checks the installation key, re-evaluates the
 * hardware policy and creates (or re-installs) the node, consuming one key use in the same
 * transaction. A retry whose answer was lost returns the node already created.
 */
import { calculateJwkThumbprint } from 'jose';
import type { EnrollRequest, EnrollResponse, NodeStatus } from '../../protocol/api.js';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { parseInstallationKey } from '../../protocol/key.js';
import type { Policy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import type { ActivityLog } from '../core/activity-log.js';
import {
  AppError,
  ConflictError,
  FingerprintConflictError,
  HardwareRejectedError,
  KeyExpiredError,
  KeyInvalidError,
  KeyRevokedError,
  KeyUsedError,
  NodeRevokedError,
  PrivateKeySentError,
  RateLimitedError,
} from '../core/errors.js';
import type { FailureLimiter } from '../core/failure-limiter.js';
import { newId, verifyKeySecret } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import { gpuSignature } from '../nodes/gpu-signature.js';
import type { NodeEvents } from '../nodes/node-events.js';
import type { EnrollmentFields, NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import type { InstallationKeyRecord, KeyRepository } from './key-repository.js';

interface EnrollmentRepos {
  keys: KeyRepository;
  nodes: NodeRepository;
  flags: FlagRepository;
  activity: ActivityLog;
}

export interface EnrollmentDeps {
  repos: Transactional<EnrollmentRepos>;
  policy: Policy;
  now: () => number;
  keyLimiter: FailureLimiter;
  addressLimiter: FailureLimiter;
  events: NodeEvents;
  onResult?: (result: string) => void;
}

export interface EnrollmentOutcome {
  created: boolean;
  response: EnrollResponse;
}

const LIVE = (n: NodeRecord) => n.status !== 'rejected' && n.status !== 'revoked';

export function createEnrollmentService(deps: EnrollmentDeps) {
  const { repos, policy, now } = deps;

  function limit(limiter: FailureLimiter, key: string, what: string): void {
    const wait = limiter.retryAfterSeconds(key);
    if (wait > 0) {
      throw new RateLimitedError(
        `Too many failed attempts ${what}. Wait ${wait} seconds, then try again.`,
        wait,
      );
    }
  }

  async function matchKey(
    keys: KeyRepository,
    keyId: string,
    secret: string,
  ): Promise<InstallationKeyRecord | undefined> {
    // Compare against every candidate so the time taken does not depend on which one matches.
    let match: InstallationKeyRecord | undefined;
    for (const candidate of await keys.findByKeyId(keyId)) {
      if (verifyKeySecret(candidate.secretHash, keyId, secret)) match = candidate;
    }
    return match;
  }

  function keyProblem(key: InstallationKeyRecord, at: number): AppError | undefined {
    if (key.revokedAt !== null) {
      return new KeyRevokedError(
        'This installation key was revoked. Create a new key on the Home Node website.',
      );
    }
    if (key.expiresAt <= at) {
      return new KeyExpiredError(
        'This installation key has expired. Create a new key on the Home Node website.',
      );
    }
    if (key.uses >= key.maxUses) {
      return new KeyUsedError(
        'This installation key has already been used. Each key enrolls a limited number of machines: create a new key on the Home Node website.',
      );
    }
    return undefined;
  }

  function enrollmentFields(
    body: EnrollRequest,
    key: InstallationKeyRecord,
    thumbprint: string,
    status: NodeStatus,
    reason: string | null,
  ): EnrollmentFields {
    const profile = deriveProviderProfile(body.hardware);
    return {
      enrolledWithKey: key.id,
      status,
      statusReason: reason,
      publicKey: { kty: body.publicKey.kty, crv: body.publicKey.crv, x: body.publicKey.x },
      publicKeyThumbprint: thumbprint,
      hardware: body.hardware,
      preflight: body.preflight,
      attributes: profile.attributes,
      labels: profile.labels,
      agentVersion: body.agentVersion,
    };
  }

  /** Status after a re-install: an approved machine stays approved unless its GPUs changed. */
  function reinstallStatus(
    previous: NodeRecord,
    hardware: HardwareFacts,
  ): { status: NodeStatus; reason: string | null } {
    if (previous.status === 'pending') return { status: 'pending', reason: previous.statusReason };
    const before = gpuSignature(previous.hardware);
    const after = gpuSignature(hardware);
    if (before === after) return { status: 'approved', reason: null };
    return {
      status: 'pending',
      reason: `GPUs changed on re-install: was ${before || 'none'}, now ${after || 'none'}`,
    };
  }

  async function enroll(body: EnrollRequest, clientAddress: string): Promise<EnrollmentOutcome> {
    if ('d' in body.publicKey) {
      throw new PrivateKeySentError(
        "publicKey contains the private key ('d'). Send only the public JWK; the private key must never leave the machine.",
      );
    }
    limit(deps.addressLimiter, clientAddress, 'from this network address');
    const parsed = parseInstallationKey(body.installationKey);
    if (!parsed.ok) {
      deps.addressLimiter.recordFailure(clientAddress);
      throw new KeyInvalidError(parsed.message, { details: { reason: parsed.reason } });
    }
    limit(deps.keyLimiter, parsed.keyId, 'with this installation key');
    const thumbprint = await calculateJwkThumbprint(body.publicKey, 'sha256');
    const at = now();
    // Every check and the write in one transaction: two machines (or two retries of one) racing
    // cannot both pass a check that only one of them may pass.
    const result = await repos.transaction(async (tx) => {
      const key = await matchKey(tx.keys, parsed.keyId, parsed.secret);
      if (!key) {
        deps.keyLimiter.recordFailure(parsed.keyId);
        deps.addressLimiter.recordFailure(clientAddress);
        throw new KeyInvalidError(
          'This installation key is not known. Check it against the website, or create a new one.',
        );
      }
      return enrollWithKey(tx, body, key, thumbprint, at);
    });
    if (result.kind === 'conflict') {
      throw new FingerprintConflictError(
        'This machine is already enrolled under another account. If you bought it second-hand, ask the previous owner to remove it, or contact support.',
      );
    }
    const { outcome } = result;
    if (outcome.created)
      deps.events.emit({ nodeId: outcome.response.nodeId, status: outcome.response.status, reason: null });
    return outcome;
  }

  type Result = { kind: 'done'; outcome: EnrollmentOutcome } | { kind: 'conflict' };

  async function enrollWithKey(
    tx: EnrollmentRepos,
    body: EnrollRequest,
    key: InstallationKeyRecord,
    thumbprint: string,
    at: number,
  ): Promise<Result> {
    const already = await tx.nodes.findByThumbprint(thumbprint);
    if (already) {
      if (already.enrolledWithKey === key.id && already.fingerprint === body.fingerprint) {
        return {
          kind: 'done',
          outcome: {
            created: false,
            response: { nodeId: already.id, status: already.status, existing: true },
          },
        };
      }
      throw new ConflictError(
        'This node identity (public key) is already registered. Run `reset` on the machine and enroll again.',
      );
    }

    const problem = keyProblem(key, at);
    // The secret was right, so this is no guess: it does not count towards the rate limits.
    if (problem) throw problem;

    const failed = assessHardware(body.hardware, policy).filter((c) => c.status === 'fail');
    if (failed.length > 0) {
      throw new HardwareRejectedError(
        `This machine does not meet the hardware policy: ${failed.map((c) => c.summary).join('; ')}.`,
        {
          details: { checks: failed },
        },
      );
    }

    const sameMachine = await tx.nodes.findByFingerprint(body.fingerprint);
    const elsewhere = sameMachine.find((n) => n.ownerId !== key.ownerId && LIVE(n));
    if (elsewhere) {
      // Kept for ops (the transaction commits); the caller then refuses the enrollment.
      await tx.flags.add(
        elsewhere.id,
        'fingerprint-conflict',
        'The same hardware tried to enroll under another owner.',
        { otherOwnerId: key.ownerId, keyId: key.id },
        at,
      );
      await tx.activity.record(
        at,
        { type: 'key', id: key.id },
        'node.enroll_conflict',
        { type: 'node', id: elsewhere.id },
        { ownerId: key.ownerId },
      );
      return { kind: 'conflict' };
    }
    const previous = sameMachine.find((n) => n.ownerId === key.ownerId && n.status !== 'rejected');
    if (previous?.status === 'revoked') {
      throw new NodeRevokedError(
        'This machine was removed by the Home Node operations team and cannot enroll again. Contact support.',
      );
    }

    if (!(await tx.keys.consumeUse(key.id, at))) {
      throw new KeyUsedError(
        'This installation key has just been used by another machine. Create a new key on the Home Node website.',
      );
    }
    if (previous) {
      const next = reinstallStatus(previous, body.hardware);
      await tx.nodes.reenroll(
        previous.id,
        enrollmentFields(body, key, thumbprint, next.status, next.reason),
        at,
      );
      await tx.activity.record(
        at,
        { type: 'key', id: key.id },
        'node.reinstalled',
        { type: 'node', id: previous.id },
        { from: previous.status, to: next.status, reason: next.reason },
      );
      return {
        kind: 'done',
        outcome: { created: true, response: { nodeId: previous.id, status: next.status, reinstall: true } },
      };
    }
    const nodeId = newId('node');
    const status: NodeStatus = policy.autoApprove ? 'approved' : 'pending';
    await tx.nodes.create(
      nodeId,
      key.ownerId,
      body.fingerprint,
      enrollmentFields(body, key, thumbprint, status, null),
      at,
    );
    await tx.activity.record(
      at,
      { type: 'key', id: key.id },
      'node.enrolled',
      { type: 'node', id: nodeId },
      { status, ownerId: key.ownerId },
    );
    return { kind: 'done', outcome: { created: true, response: { nodeId, status } } };
  }

  return {
    async enroll(body: EnrollRequest, clientAddress: string): Promise<EnrollmentOutcome> {
      try {
        const outcome = await enroll(body, clientAddress);
        deps.onResult?.(
          outcome.response.existing ? 'retry' : outcome.response.reinstall ? 'reinstall' : 'created',
        );
        return outcome;
      } catch (error) {
        deps.onResult?.(error instanceof AppError ? error.code : 'INTERNAL');
        throw error;
      }
    },
  };
}
export type EnrollmentService = ReturnType<typeof createEnrollmentService>;
