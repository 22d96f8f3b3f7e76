/**
 * Who a provider sign-in is: the owner already linked to that provider account; else the owner
 * with the same address, linked only when the provider has verified the address (otherwise
 * anyone could claim someone's account by typing their address at a provider that does not
 * check); else a new owner. Returns the owner's dashboard token, which the session is opened on.
 */
import { randomBytes } from 'node:crypto';
import type { ActivityLog } from '../core/activity-log.js';
import type { EventOutbox } from '../core/domain-events.js';
import { newApiToken, newId, sha256Hex } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { CredentialRepository } from './credential-repository.js';
import type { EmailLinkRepository } from './email-link-repository.js';
import type { EmailLinkTokens } from './email-link-tokens.js';
import { issueEmailLink } from './email-verification.js';
import type { IdentityRepository } from './identity-repository.js';
import type { Owner, OwnerRepository } from './owner-repository.js';
import { hashPassword } from './passwords.js';
import type { ExternalProfile } from './sign-in-provider.js';
import type { TokenRepository } from './token-repository.js';

/** Why a provider sign-in was refused; the dashboard's sign-in page explains each. */
export type RefusalReason = 'no-email' | 'unverified-email' | 'disabled';

export class SignInRefusedError extends Error {
  constructor(readonly reason: RefusalReason) {
    super(`provider sign-in refused: ${reason}`);
    this.name = 'SignInRefusedError';
  }
}

type Repos = {
  owners: OwnerRepository;
  tokens: TokenRepository;
  credentials: CredentialRepository;
  identities: IdentityRepository;
  emailLinks: EmailLinkRepository;
  events: EventOutbox;
  activity: ActivityLog;
};

export interface ExternalSignIn {
  ownerId: string;
  tokenId: string;
  outcome: 'signed-in' | 'linked' | 'created';
}

const actor = (tokenId: string) => ({ type: 'token' as const, id: tokenId, role: 'owner' });

export function createExternalAccounts(deps: {
  repos: Transactional<Repos>;
  links: EmailLinkTokens;
  now: () => number;
}) {
  const { repos, links, now } = deps;

  /** The owner's dashboard token; a new one with a password nobody knows when they have none. */
  async function dashboardToken(
    tx: Repos,
    ownerId: string,
    unusableHash: string,
    at: number,
  ): Promise<string> {
    const existing = await tx.credentials.forOwner(ownerId);
    if (existing) {
      const token = await tx.tokens.get(existing.tokenId);
      if (!token || token.revokedAt !== null) throw new SignInRefusedError('disabled');
      return existing.tokenId;
    }
    const tokenId = newId('tok');
    await tx.tokens.create(
      {
        id: tokenId,
        role: 'owner',
        ownerId,
        label: 'dashboard sign-in (provider)',
        createdAt: at,
        createdBy: null,
      },
      sha256Hex(newApiToken()),
    );
    await tx.credentials.createUnusable(ownerId, unusableHash, tokenId, at);
    return tokenId;
  }

  async function confirmAddress(tx: Repos, owner: Owner, at: number): Promise<void> {
    if (await tx.emailLinks.markVerified(owner.id, at))
      await tx.events.append(at, { type: 'account.welcome', ownerId: owner.id });
  }

  return {
    async signIn(provider: string, profile: ExternalProfile): Promise<ExternalSignIn> {
      // scrypt outside the transaction: the connection is never held while hashing.
      const unusableHash = await hashPassword(randomBytes(32).toString('base64url'));
      const at = now();
      return repos.transaction(async (tx) => {
        const known = await tx.identities.find(provider, profile.subject);
        if (known) {
          await tx.identities.touch(provider, profile.subject, at);
          return {
            ownerId: known.ownerId,
            tokenId: await dashboardToken(tx, known.ownerId, unusableHash, at),
            outcome: 'signed-in' as const,
          };
        }
        if (profile.email === null) throw new SignInRefusedError('no-email');
        const identity = {
          provider,
          subject: profile.subject,
          email: profile.email,
          createdAt: at,
          lastUsedAt: at,
        };
        const owner = await tx.owners.getByEmail(profile.email);
        if (owner) {
          if (!profile.emailVerified) throw new SignInRefusedError('unverified-email');
          const tokenId = await dashboardToken(tx, owner.id, unusableHash, at);
          await tx.identities.link({ ...identity, ownerId: owner.id });
          await confirmAddress(tx, owner, at);
          await tx.activity.record(
            at,
            actor(tokenId),
            'owner.identity-linked',
            { type: 'owner', id: owner.id },
            { provider },
          );
          return { ownerId: owner.id, tokenId, outcome: 'linked' as const };
        }
        const created: Owner = {
          id: newId('own'),
          email: profile.email,
          name: profile.name?.trim() || (profile.email.split('@')[0] ?? profile.email),
          createdAt: at,
        };
        await tx.owners.create(created);
        const tokenId = await dashboardToken(tx, created.id, unusableHash, at);
        await tx.identities.link({ ...identity, ownerId: created.id });
        if (profile.emailVerified) await confirmAddress(tx, created, at);
        else await issueEmailLink(tx, links, created, 'verify-email', at);
        await tx.activity.record(
          at,
          actor(tokenId),
          'owner.signed-up',
          { type: 'owner', id: created.id },
          { provider },
        );
        return { ownerId: created.id, tokenId, outcome: 'created' as const };
      });
    },
  };
}
export type ExternalAccounts = ReturnType<typeof createExternalAccounts>;
