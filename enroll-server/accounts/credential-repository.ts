/**
 * What an owner signs in with, beyond the sign-in code itself: whether their password is usable,
 * replacing it after a reset, and ending the sessions opened on their dashboard token.
 */
export interface OwnerCredentials {
  ownerId: string;
  /** The owner's own dashboard token, which their sessions are opened on (never shown). */
  tokenId: string;
  /** False for an owner who has only ever signed in through a provider. */
  passwordUsable: boolean;
}

export interface CredentialRepository {
  forOwner(ownerId: string): Promise<OwnerCredentials | undefined>;
  /** A provider-only owner: a hash of a password nobody knows, on their dashboard token. */
  createUnusable(ownerId: string, passwordHash: string, tokenId: string, at: number): Promise<void>;
  /** The new password after a reset (it becomes usable); false when the owner has no password row. */
  replacePassword(ownerId: string, passwordHash: string, at: number): Promise<boolean>;
  /** Ends the live sessions on a token, except `exceptSessionId`; how many ended. */
  endSessions(tokenId: string, at: number, exceptSessionId: string | null): Promise<number>;
}
