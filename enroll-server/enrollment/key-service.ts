/** Installation keys: issue (shown once), list and revoke, scoped to the caller's owner. */
import { randomBytes } from 'node:crypto';
import { generateInstallationKey, type InstallationKey } from '../../protocol/key.js';
import type { EmailLinkRepository } from '../accounts/email-link-repository.js';
import type { OwnerRepository } from '../accounts/owner-repository.js';
import type { ActivityLog } from '../core/activity-log.js';
import { type Principal, actorOf } from '../core/auth.js';
import type { KeyLimits } from '../core/config.js';
import { EmailNotVerifiedError, NotFoundError, ValidationError } from '../core/errors.js';
import { hashKeySecret, newId, newSalt } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { InstallationKeyRecord, KeyRepository } from './key-repository.js';

export interface CreateKeyInput {
  ownerId?: string;
  ttlHours?: number;
  maxUses?: number;
  label?: string;
}

export interface KeyServiceDeps {
  repos: Transactional<{
    keys: KeyRepository;
    owners: OwnerRepository;
    emailLinks: EmailLinkRepository;
    activity: ActivityLog;
  }>;
  limits: KeyLimits;
  now: () => number;
}

export function createKeyService({ repos, limits, now }: KeyServiceDeps) {
  /** The owner a request acts for: an owner token acts for itself; staff name the owner. */
  async function targetOwner(principal: Principal, ownerId: string | undefined): Promise<string> {
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
    if (!(await repos.owners.get(ownerId))) throw new NotFoundError(`Owner ${ownerId} not found.`);
    return ownerId;
  }

  function checkRange(field: string, value: number, max: number, who: string): void {
    if (value > max) {
      throw new ValidationError(`body field '${field}' must be at most ${max}${who}`, {
        details: [{ field, message: `at most ${max}` }],
      });
    }
  }

  /** Key ids are 20 bits: only a dead key's id may be issued again (checked in the caller's transaction). */
  async function newKey(keys: KeyRepository, at: number): Promise<InstallationKey> {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const key = generateInstallationKey(randomBytes);
      if (!(await keys.isKeyIdLive(key.keyId, at))) return key;
    }
    throw new Error('no free installation key id after 20 attempts');
  }

  return {
    async create(
      principal: Principal,
      input: CreateKeyInput,
    ): Promise<{ record: InstallationKeyRecord; key: string }> {
      const ownerId = await targetOwner(principal, input.ownerId);
      // An owner confirms their address first; ops making a key for an owner vouch for them.
      if (principal.role === 'owner' && (await repos.emailLinks.verifiedAt(ownerId)) === null) {
        const email = (await repos.owners.get(ownerId))?.email ?? 'your address';
        throw new EmailNotVerifiedError(
          `Confirm your email address before you add a machine: open the link we sent to ${email}. No mail? Look in your spam folder, or send it again from the dashboard.`,
        );
      }
      // Owners make keys for a few machines of their own; a larger batch goes through ops.
      const self = principal.role === 'owner';
      const maxTtlHours = self ? limits.ownerMaxTtlHours : limits.maxTtlHours;
      const ttlHours = input.ttlHours ?? Math.min(limits.defaultTtlHours, maxTtlHours);
      const maxUses = input.maxUses ?? 1;
      const more = self ? ' for a key you make yourself; ask the operations team for a key with more' : '';
      checkRange('ttlHours', ttlHours, maxTtlHours, more && `${more} time`);
      checkRange('maxUses', maxUses, self ? limits.ownerMaxUses : limits.maxUses, more && `${more} uses`);
      const at = now();
      const salt = newSalt();
      return repos.transaction(async (tx) => {
        const key = await newKey(tx.keys, at);
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
        await tx.keys.create(record);
        await tx.activity.record(
          at,
          actorOf(principal),
          'key.created',
          { type: 'key', id: record.id },
          { ownerId, maxUses, ttlHours, keyId: key.keyId },
        );
        return { record, key: key.text };
      });
    },

    async list(
      principal: Principal,
      ownerId: string | undefined,
      limit: number,
      offset: number,
    ): Promise<InstallationKeyRecord[]> {
      const scope = principal.role === 'owner' ? await targetOwner(principal, ownerId) : (ownerId ?? null);
      return repos.keys.list(scope, limit, offset);
    },

    async revoke(principal: Principal, id: string): Promise<InstallationKeyRecord> {
      const at = now();
      return repos.transaction(async (tx) => {
        const record = await tx.keys.get(id);
        if (!record || (principal.role === 'owner' && record.ownerId !== principal.ownerId)) {
          throw new NotFoundError(`Installation key ${id} not found.`);
        }
        if (await tx.keys.revoke(id, at))
          await tx.activity.record(at, actorOf(principal), 'key.revoked', { type: 'key', id });
        return (await tx.keys.get(id)) ?? record;
      });
    },
  };
}
export type KeyService = ReturnType<typeof createKeyService>;
