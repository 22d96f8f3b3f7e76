/**
 * The pure rules of an enrollment: what is wrong with a key, what a node record holds, and the
 * status a re-installed machine gets. The service (enrollment-service.ts) applies them.
 */
import type { EnrollRequest, NodeStatus } from '../../protocol/api.js';
import { deriveProviderProfile } from '../../protocol/attributes.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { type AppError, KeyExpiredError, KeyRevokedError, KeyUsedError } from '../core/errors.js';
import { gpuSignature } from '../nodes/gpu-signature.js';
import type { EnrollmentFields, NodeRecord } from '../nodes/node-repository.js';
import type { InstallationKeyRecord } from './key-repository.js';

/** Why a key whose secret is right cannot enroll now, or undefined. */
export function keyProblem(key: InstallationKeyRecord, at: number): AppError | undefined {
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

export function enrollmentFields(
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
export function reinstallStatus(
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
