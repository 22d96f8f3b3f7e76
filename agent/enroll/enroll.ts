/**
 * Enrollment (DESIGN.md "Node identity", "HTTP API"): the request is saved before it is sent and
 * kept until the server's answer is recorded, so a crash or a lost answer is retried with the same
 * key, public key and fingerprint, and the server answers 200 with the node it already created.
 */
import type { EnrollRequest } from '../../protocol/api.js';
import type { Check, HardwareFacts } from '../../protocol/hardware.js';
import type { HttpClient } from '../net/http-request.js';
import type { Identity, NodeRecord, PendingEnrollment, StateStore } from '../state/state-store.js';
import { AGENT_VERSION } from '../version.js';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffOptions } from './backoff.js';
import { attemptEnrollment } from './enroll-client.js';

export interface RetryNotice {
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  reason: string;
}

export interface EnrollDeps {
  store: StateStore;
  http: HttpClient;
  now: () => number;
  random: () => number;
  /** Waits before the next attempt; the UI shows a countdown while it does. */
  wait: (delayMs: number, notice: RetryNotice) => Promise<void>;
  onAttempt?: (attempt: number) => void;
  maxAttempts?: number;
  backoff?: BackoffOptions;
}

export type EnrollResult =
  | { kind: 'enrolled'; node: NodeRecord }
  | { kind: 'refused'; httpStatus: number; code: string; message: string; details?: unknown }
  | { kind: 'gave-up'; attempts: number; reason: string };

export const DEFAULT_MAX_ATTEMPTS = 10;

export function buildEnrollRequest(input: {
  installationKey: string;
  identity: Identity;
  fingerprint: string;
  hardware: HardwareFacts;
  checks: Check[];
}): EnrollRequest {
  return {
    installationKey: input.installationKey,
    publicKey: input.identity.publicKey,
    fingerprint: input.fingerprint,
    hardware: input.hardware,
    preflight: input.checks,
    agentVersion: AGENT_VERSION,
  };
}

/** Record the request durably; from here on a crash resumes this exact request. */
export async function beginEnrollment(
  store: StateStore,
  serverUrl: string,
  request: EnrollRequest,
  now: () => number,
): Promise<PendingEnrollment> {
  const pending = { serverUrl, startedAt: new Date(now()).toISOString(), request };
  await store.pending.save(pending);
  return pending;
}

/** Send a recorded request until the server answers for good or the attempts run out. */
export async function sendEnrollment(pending: PendingEnrollment, deps: EnrollDeps): Promise<EnrollResult> {
  const maxAttempts = deps.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  let reason = '';
  for (let attempt = 1; attempt <= maxAttempts; attempt += 1) {
    deps.onAttempt?.(attempt);
    const outcome = await attemptEnrollment(deps.http, pending.serverUrl, pending.request, deps.now);
    if (outcome.kind === 'enrolled') {
      const node: NodeRecord = {
        nodeId: outcome.response.nodeId,
        status: outcome.response.status,
        serverUrl: pending.serverUrl,
        fingerprint: pending.request.fingerprint,
        enrolledAt: new Date(deps.now()).toISOString(),
        ...(outcome.response.existing ? { existing: true } : {}),
      };
      // Record the node before forgetting the request: a crash between the two only repeats the
      // (idempotent) request, never loses the node.
      await deps.store.node.save(node);
      await deps.store.pending.clear();
      return { kind: 'enrolled', node };
    }
    if (outcome.kind === 'refused') {
      await deps.store.pending.clear();
      return outcome;
    }
    reason = outcome.reason;
    if (attempt === maxAttempts) break;
    const delayMs =
      outcome.retryAfterMs ?? backoffDelay(attempt, deps.random, deps.backoff ?? DEFAULT_BACKOFF);
    await deps.wait(delayMs, { attempt, maxAttempts, delayMs, reason });
  }
  return { kind: 'gave-up', attempts: maxAttempts, reason };
}
