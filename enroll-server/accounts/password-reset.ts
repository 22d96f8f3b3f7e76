/**
 * Password reset by a mailed link: asking answers the same whether or not the address is known
 * (the mail goes only to a known one, at most three an hour); the link works once, for an hour;
 * setting the new password ends every other session of the account, confirms the address (the
 * person proved they read its mail) and mails a notice that the password changed.
 */
import type { ActivityLog } from '../core/activity-log.js';
import type { EventOutbox } from '../core/domain-events.js';
import { LinkUsedError } from '../core/errors.js';
import { newApiToken, newId, sha256Hex } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { CredentialRepository } from './credential-repository.js';
import type { EmailLinkRepository } from './email-link-repository.js';
import type { EmailLinkTokens } from './email-link-tokens.js';
import { LINK_MAILS_PER_HOUR, findLink, issueEmailLink } from './email-verification.js';
import type { OwnerRepository } from './owner-repository.js';
import { hashPassword } from './passwords.js';
import type { SessionRepository } from './session-repository.js';
import type { TokenRepository } from './token-repository.js';

export interface PasswordResetDeps {
  repos: Transactional<{
    owners: OwnerRepository;
    emailLinks: EmailLinkRepository;
    credentials: CredentialRepository;
    tokens: TokenRepository;
    sessions: SessionRepository;
    events: EventOutbox;
    activity: ActivityLog;
  }>;
  links: EmailLinkTokens;
  now: () => number;
}

export function createPasswordReset({ repos, links, now }: PasswordResetDeps) {
  return {
    /** Queues a reset mail when the address belongs to an owner; says nothing either way. */
    async request(email: string): Promise<void> {
      const at = now();
      await repos.transaction(async (tx) => {
        const owner = await tx.owners.getByEmail(email.trim().toLowerCase());
        if (!owner) return;
        if (
          (await tx.emailLinks.countSince(owner.id, 'password-reset', at - 3_600_000)) >= LINK_MAILS_PER_HOUR
        )
          return;
        await issueEmailLink(tx, links, owner, 'password-reset', at);
      });
    },

    /**
     * Sets the new password with a reset link. `currentSessionId`: the session this request came
     * in on, if any, which stays open; every other session of the account ends.
     */
    async confirm(
      token: string,
      password: string,
      currentSessionId: string | null,
    ): Promise<{ ownerId: string }> {
      const { link, owner } = await findLink(repos, links, token, 'password-reset', now());
      const passwordHash = await hashPassword(password);
      const at = now();
      await repos.transaction(async (tx) => {
        if (!(await tx.emailLinks.use(link.id, at)))
          throw new LinkUsedError(
            'This link was used already; each link works once. Ask for a new one on the sign-in page ("Forgot your password?").',
          );
        await tx.emailLinks.voidOthers(owner.id, 'password-reset', link.id, at);
        const credentials = await tx.credentials.forOwner(owner.id);
        let ended = 0;
        if (credentials) {
          await tx.credentials.replacePassword(owner.id, passwordHash, at);
          ended = await tx.credentials.endSessions(credentials.tokenId, at, currentSessionId);
        } else {
          // An owner made by ops has no dashboard sign-in yet: the reset link gives them one.
          const tokenId = newId('tok');
          await tx.tokens.create(
            {
              id: tokenId,
              role: 'owner',
              ownerId: owner.id,
              label: 'dashboard sign-in (password)',
              createdAt: at,
              createdBy: null,
            },
            sha256Hex(newApiToken()),
          );
          await tx.sessions.setPassword(owner.id, passwordHash, tokenId, at);
        }
        if (await tx.emailLinks.markVerified(owner.id, at))
          await tx.events.append(at, { type: 'account.welcome', ownerId: owner.id });
        await tx.events.append(at, { type: 'account.password-changed', ownerId: owner.id });
        await tx.activity.record(
          at,
          { type: 'system', id: null },
          'owner.password-reset',
          { type: 'owner', id: owner.id },
          { sessionsEnded: ended },
        );
      });
      return { ownerId: owner.id };
    },
  };
}
export type PasswordReset = ReturnType<typeof createPasswordReset>;
