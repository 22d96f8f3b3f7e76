/**
 * Enrollment (DESIGN.md "HTTP API", "Node identity"): checks the installation key, re-evaluates the
 * hardware policy and creates (or re-installs) the node, consuming one key use in the same
 * transaction. A retry whose answer was lost returns the node already created.
 */
import { calculateJwkThumbprint } from 'jose';
import type { EnrollRequest, EnrollResponse, NodeStatus } from '../../protocol/api.js';
import { parseInstallationKey } from '../../protocol/key.js';
import type { Policy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import type { ActivityLog } from '../core/activity-log.js';
import {
  AppError,
  ConflictError,
  FingerprintConflictError,
  HardwareRejectedError,
  KeyInvalidError,
  KeyUsedError,
  NodeRevokedError,
  PrivateKeySentError,
  RateLimitedError,
} from '../core/errors.js';
import type { SharedFailureLimiter } from '../core/failure-limiter.js';
import { newId, verifyKeySecret } from '../core/ids.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { Transactional } from '../core/transactions.js';
import type { FlagRepository } from '../nodes/flag-repository.js';
import { assertStorable, knownChecks, knownHardware } from '../nodes/hardware-facts.js';
import type { NodeEvents } from '../nodes/node-events.js';
import type { NodeRecord, NodeRepository } from '../nodes/node-repository.js';
import { enrollmentFields, keyProblem, reinstallStatus } from './enrollment-rules.js';
import type { InstallationKeyRecord, KeyRepository } from './key-repository.js';

interface EnrollmentRepos {
  events: EventOutbox;
  keys: KeyRepository;
  nodes: NodeRepository;
  flags: FlagRepository;
  activity: ActivityLog;
}

export interface EnrollmentDeps {
  repos: Transactional<EnrollmentRepos>;
  policy: Policy;
  now: () => number;
  /** Attempts per installation key id, and per client address. */
  keyLimit: AttemptLimit;
  addressLimit: AttemptLimit;
  events: NodeEvents;
  onResult?: (result: string) => void;
}

/**
 * One limit on enrollment attempts, kept in two counts. `attempts` counts every attempt from
 * before it is checked until it is known to be no guess (then it is given back), so that parallel
 * guesses cannot all be checked at once; `failures` counts only the guesses. When `attempts` is
 * full but `failures` is not, the limit was reached by checks still under way (many machines
 * enrolling with one key, or from one address, at the same moment): that refusal asks for a
 * second's wait, not the window's.
 */
export interface AttemptLimit {
  attempts: SharedFailureLimiter;
  failures: SharedFailureLimiter;
}

interface Reserved {
  refund(): Promise<void>;
  /** The attempt was a guess: it stays counted, and counts as a failure. */
  failed(): Promise<void>;
}

export interface EnrollmentOutcome {
  created: boolean;
  response: EnrollResponse;
}

const LIVE = (n: NodeRecord) => n.status !== 'rejected' && n.status !== 'revoked';

export function createEnrollmentService(deps: EnrollmentDeps) {
  const { repos, policy, now } = deps;

  /**
   * Count the attempt before its key is checked (the check awaits the database): parallel guesses
   * are counted as they arrive, not after they have all been checked. Refunded when it was no guess.
   */
  async function reserve(limit: AttemptLimit, key: string, what: string): Promise<Reserved> {
    const reservation = await limit.attempts.reserve(key);
    if ('retryAfterSeconds' in reservation) {
      const wait = await limit.failures.retryAfterSeconds(key);
      if (wait > 0)
        throw new RateLimitedError(
          `Too many failed attempts ${what}. Wait ${wait} seconds, then try again.`,
          wait,
        );
      throw new RateLimitedError(
        `Many machines are enrolling ${what} at this moment. Try again in a second (the agent does so by itself).`,
        1,
      );
    }
    return { refund: () => reservation.refund(), failed: () => limit.failures.recordFailure(key) };
  }

  /** Only the fields the schema knows are kept (unknown ones are dropped), within the size bound. */
  function storedBody(body: EnrollRequest): EnrollRequest {
    const hardware = knownHardware(body.hardware);
    const preflight = knownChecks(body.preflight);
    assertStorable('hardware', hardware);
    assertStorable('preflight', preflight);
    return {
      installationKey: body.installationKey,
      publicKey: body.publicKey,
      fingerprint: body.fingerprint,
      hardware,
      preflight,
      agentVersion: body.agentVersion,
    };
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

  async function enroll(request: EnrollRequest, clientAddress: string): Promise<EnrollmentOutcome> {
    if ('d' in request.publicKey) {
      throw new PrivateKeySentError(
        "publicKey contains the private key ('d'). Send only the public JWK; the private key must never leave the machine.",
      );
    }
    const fromAddress = await reserve(deps.addressLimit, clientAddress, 'from this network address');
    const body = storedBody(request);
    const parsed = parseInstallationKey(body.installationKey);
    // A key that fails its own check symbol is a failed attempt from this address (it stays counted).
    if (!parsed.ok) {
      await fromAddress.failed();
      throw new KeyInvalidError(parsed.message, { details: { reason: parsed.reason } });
    }
    let withKey: Reserved;
    try {
      withKey = await reserve(deps.keyLimit, parsed.keyId, 'with this installation key');
    } catch (error) {
      await fromAddress.refund();
      throw error;
    }
    /** Only a secret that matched no key is a guess; anything else gives both attempts back. */
    let guessed = false;
    let result: Result;
    try {
      const thumbprint = await calculateJwkThumbprint(body.publicKey, 'sha256');
      const at = now();
      // Every check and the write in one transaction: two machines (or two retries of one) racing
      // cannot both pass a check that only one of them may pass.
      result = await repos.transaction(async (tx) => {
        const key = await matchKey(tx.keys, parsed.keyId, parsed.secret);
        if (!key) {
          guessed = true;
          throw new KeyInvalidError(
            'This installation key is not known. Check it against the website, or create a new one.',
          );
        }
        return enrollWithKey(tx, body, key, thumbprint, at);
      });
    } finally {
      await Promise.all(
        guessed ? [fromAddress.failed(), withKey.failed()] : [fromAddress.refund(), withKey.refund()],
      );
    }
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
    // The secret was right, so this is no guess: its attempt is given back to the rate limits.
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
    await tx.events.append(at, { type: 'node.enrolled', nodeId, ownerId: key.ownerId, status });
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
