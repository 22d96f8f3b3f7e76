/** Installation keys: issue (shown once), list and revoke, scoped to the caller's owner. */
import { randomBytes } from 'node:crypto';
import { generateInstallationKey, type InstallationKey } from '../../protocol/key.js';
import type { KeyLimits } from '../core/config.js';
import { NotFoundError, ValidationError } from '../core/errors.js';
import { hashKeySecret, newId, newSalt } from '../core/ids.js';
import { type Principal, actorOf } from '../core/auth.js';
import type { Repositories } from '../sqlite-store.js';
import type { InstallationKeyRecord } from './sqlite/key-repository.js';

export interface CreateKeyInput {
  ownerId?: string;
  ttlHours?: number;
  maxUses?: number;
  label?: string;
}

export function createKeyService(deps: { repos: Repositories; limits: KeyLimits; now: () => number }) {
  const { repos, limits, now } = deps;

  /** The owner a request acts for: an owner token acts for itself; staff name the owner. */
  function targetOwner(principal: Principal, ownerId: string | undefined): string {
    if (principal.role === 'owner') {
      if (ownerId !== undefined && ownerId !== principal.ownerId) throw new NotFoundError('Owner not found.');
      return principal.ownerId ?? '';
    }
    if (ownerId === undefined) {
      throw new ValidationError(
        "body is missing the required field 'ownerId' (staff create keys for a named owner)",
        {
          details: [{ field: 'ownerId', message: 'required for ops and admin' }],
        },
      );
    }
    if (!repos.owners.get(ownerId)) throw new NotFoundError(`Owner ${ownerId} not found.`);
    return ownerId;
  }

  function checkRange(field: string, value: number, max: number): void {
    if (value > max) {
      throw new ValidationError(`body field '${field}' must be at most ${max}`, {
        details: [{ field, message: `at most ${max}` }],
      });
    }
  }

  function newKey(at: number): InstallationKey {
    // Key ids are 20 bits: only a dead key's id may be issued again.
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const key = generateInstallationKey(randomBytes);
      if (!repos.keys.isKeyIdLive(key.keyId, at)) return key;
    }
    throw new Error('no free installation key id after 20 attempts');
  }

  return {
    create(principal: Principal, input: CreateKeyInput): { record: InstallationKeyRecord; key: string } {
      const ownerId = targetOwner(principal, input.ownerId);
      const ttlHours = input.ttlHours ?? limits.defaultTtlHours;
      const maxUses = input.maxUses ?? 1;
      checkRange('ttlHours', ttlHours, limits.maxTtlHours);
      checkRange('maxUses', maxUses, limits.maxUses);
      const at = now();
      const key = newKey(at);
      const salt = newSalt();
      const record: InstallationKeyRecord = {
        id: newId('key'),
        keyId: key.keyId,
        secretHash: hashKeySecret(salt, key.keyId, key.secret),
        ownerId,
        label: input.label ?? null,
        createdAt: at,
        createdBy: principal.tokenId,
        expiresAt: at + ttlHours * 3_600_000,
        maxUses,
        uses: 0,
        revokedAt: null,
      };
      repos.transaction(() => {
        repos.keys.create(record);
        repos.audit.record(
          at,
          actorOf(principal),
          'key.created',
          { type: 'key', id: record.id },
          { ownerId, maxUses, ttlHours, keyId: key.keyId },
        );
      });
      return { record, key: key.text };
    },

    list(
      principal: Principal,
      ownerId: string | undefined,
      limit: number,
      offset: number,
    ): InstallationKeyRecord[] {
      const scope = principal.role === 'owner' ? targetOwner(principal, ownerId) : (ownerId ?? null);
      return repos.keys.list(scope, limit, offset);
    },

    revoke(principal: Principal, id: string): InstallationKeyRecord {
      const record = repos.keys.get(id);
      if (!record || (principal.role === 'owner' && record.ownerId !== principal.ownerId)) {
        throw new NotFoundError(`Installation key ${id} not found.`);
      }
      const at = now();
      repos.transaction(() => {
        if (repos.keys.revoke(id, at))
          repos.audit.record(at, actorOf(principal), 'key.revoked', { type: 'key', id });
      });
      return repos.keys.get(id) ?? record;
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;
