/**
 * Confirming an owner's email address: a sign-up makes a link (in its own transaction) and the
 * notifications capability mails it; opening it confirms the address, once, and queues the welcome
 * mail. Until then `POST /v1/keys` answers `403 EMAIL_NOT_VERIFIED` (enrollment/key-service.ts).
 */
import type { ActivityLog } from '../core/activity-log.js';
import type { EventOutbox } from '../core/domain-events.js';
import {
  ConflictError,
  LinkExpiredError,
  LinkInvalidError,
  LinkUsedError,
  NotFoundError,
  RateLimitedError,
} from '../core/errors.js';
import { newId } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { EmailLinkPurpose, EmailLinkRecord, EmailLinkRepository } from './email-link-repository.js';
import { LINK_LIFETIME_MS, type EmailLinkTokens } from './email-link-tokens.js';
import type { Owner, OwnerRepository } from './owner-repository.js';

/** At most this many mails of one kind to one owner per hour. */
export const LINK_MAILS_PER_HOUR = 3;

const HOUR_MS = 3_600_000;

/** Makes a link for the owner and queues its mail, inside the caller's transaction. */
export async function issueEmailLink(
  tx: { emailLinks: EmailLinkRepository; events: EventOutbox },
  links: EmailLinkTokens,
  owner: Pick<Owner, 'id' | 'email'>,
  purpose: EmailLinkPurpose,
  at: number,
): Promise<string> {
  const id = newId('eml');
  await tx.emailLinks.create(
    {
      id,
      ownerId: owner.id,
      purpose,
      email: owner.email,
      createdAt: at,
      expiresAt: at + LINK_LIFETIME_MS[purpose],
    },
    links.hash(links.token(purpose, id)),
  );
  await tx.events.append(at, {
    type: purpose === 'verify-email' ? 'account.verify-email' : 'account.password-reset',
    ownerId: owner.id,
    tokenId: id,
  });
  return id;
}

const AGAIN: Record<EmailLinkPurpose, string> = {
  'verify-email': 'Sign in and ask for a new confirmation link on the dashboard.',
  'password-reset': 'Ask for a new one on the sign-in page ("Forgot your password?").',
};

/**
 * The link a token belongs to, checked for its purpose, expiry, use and address. Read outside a
 * transaction for a clear answer; the caller uses it with a compare-and-set inside one.
 */
export async function findLink(
  repos: { emailLinks: EmailLinkRepository; owners: OwnerRepository },
  links: EmailLinkTokens,
  token: string,
  purpose: EmailLinkPurpose,
  at: number,
): Promise<{ link: EmailLinkRecord; owner: Owner }> {
  const link = await repos.emailLinks.findByHash(links.hash(token));
  const owner = link && (await repos.owners.get(link.ownerId));
  if (!link || !owner || link.purpose !== purpose || owner.email.toLowerCase() !== link.email.toLowerCase()) {
    throw new LinkInvalidError(
      `This link is not valid. Copy the whole link from the mail into the address bar, or: ${AGAIN[purpose]}`,
    );
  }
  if (link.usedAt !== null) {
    throw new LinkUsedError(
      purpose === 'verify-email'
        ? 'This link was used already: your address is confirmed. Sign in to continue.'
        : `This link was used already; each link works once. ${AGAIN[purpose]}`,
    );
  }
  if (link.expiresAt <= at) {
    const hours = Math.round(LINK_LIFETIME_MS[purpose] / HOUR_MS);
    throw new LinkExpiredError(
      `This link expired ${hours >= 2 ? `${hours} hours` : `${Math.round(LINK_LIFETIME_MS[purpose] / 60_000)} minutes`} after it was sent. ${AGAIN[purpose]}`,
    );
  }
  return { link, owner };
}

export interface EmailVerificationDeps {
  repos: Transactional<{
    owners: OwnerRepository;
    emailLinks: EmailLinkRepository;
    events: EventOutbox;
    activity: ActivityLog;
  }>;
  links: EmailLinkTokens;
  now: () => number;
}

export function createEmailVerification({ repos, links, now }: EmailVerificationDeps) {
  return {
    /** Confirms the address the link was sent to; the first confirmation queues the welcome mail. */
    async verify(token: string): Promise<{ ownerId: string; email: string }> {
      const at = now();
      const { link, owner } = await findLink(repos, links, token, 'verify-email', at);
      await repos.transaction(async (tx) => {
        if (!(await tx.emailLinks.use(link.id, at)))
          throw new LinkUsedError(
            'This link was used already: your address is confirmed. Sign in to continue.',
          );
        if (await tx.emailLinks.markVerified(owner.id, at)) {
          await tx.events.append(at, { type: 'account.welcome', ownerId: owner.id });
          await tx.activity.record(
            at,
            { type: 'system', id: null },
            'owner.email-verified',
            { type: 'owner', id: owner.id },
            { email: owner.email },
          );
        }
      });
      return { ownerId: owner.id, email: owner.email };
    },

    /** Another confirmation mail for a signed-in owner, at most three an hour. */
    async resend(ownerId: string): Promise<{ email: string }> {
      const at = now();
      return repos.transaction(async (tx) => {
        const owner = await tx.owners.get(ownerId);
        if (!owner) throw new NotFoundError('Owner not found.');
        if ((await tx.emailLinks.verifiedAt(ownerId)) !== null)
          throw new ConflictError(`${owner.email} is confirmed already. You can add machines now.`);
        if ((await tx.emailLinks.countSince(ownerId, 'verify-email', at - HOUR_MS)) >= LINK_MAILS_PER_HOUR) {
          throw new RateLimitedError(
            `We sent ${LINK_MAILS_PER_HOUR} confirmation mails to ${owner.email} in the last hour. Look in your spam folder, or try again later.`,
            3600,
          );
        }
        await issueEmailLink(tx, links, owner, 'verify-email', at);
        return { email: owner.email };
      });
    },
  };
}
export type EmailVerification = ReturnType<typeof createEmailVerification>;
