/**
 * Mailed links (confirm the address, reset the password) and whether an owner's address is
 * confirmed. A link's token is never stored: only its SHA-256 (the token is derived from the row id
 * with the server's secret key when the mail is written; `email-link-tokens.ts`).
 */
export type EmailLinkPurpose = 'verify-email' | 'password-reset';

export interface EmailLinkRecord {
  id: string;
  ownerId: string;
  purpose: EmailLinkPurpose;
  /** The address the link was sent to: a link stops working when the owner's address changes. */
  email: string;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
}

export interface EmailLinkRepository {
  create(record: Omit<EmailLinkRecord, 'usedAt'>, tokenHash: string): Promise<void>;
  findByHash(tokenHash: string): Promise<EmailLinkRecord | undefined>;
  /** Uses the link once: false when it was used already or has expired (compare-and-set). */
  use(id: string, at: number): Promise<boolean>;
  /** Marks every other unused link of the owner for this purpose used (older reset links die). */
  voidOthers(ownerId: string, purpose: EmailLinkPurpose, exceptId: string, at: number): Promise<number>;
  /** Links made for the owner and purpose since `since` (to cap how many mails one can ask for). */
  countSince(ownerId: string, purpose: EmailLinkPurpose, since: number): Promise<number>;
  /** When the owner's address was confirmed, or null while it is not. */
  verifiedAt(ownerId: string): Promise<number | null>;
  /** False when it was confirmed already. */
  markVerified(ownerId: string, at: number): Promise<boolean>;
}
