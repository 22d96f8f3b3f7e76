/** What an outbox row keeps to write its mail (again, identically, on a retry). */
import type { DomainEvent, StatementShare } from '../core/domain-events.js';
import type { EmailLinkPurpose } from '../accounts/email-link-repository.js';
import type { Block } from './mail-layout.js';

export interface MailParams {
  event: DomainEvent;
  /** The recipient's name ('' for ops addresses) and address. */
  name: string;
  email: string;
  /** For a statement: the recipient's part. */
  share?: StatementShare;
}

export interface MailContext {
  publicUrl: string;
  /** The link in an account mail, derived again from its row id. */
  linkUrl(purpose: EmailLinkPurpose, tokenId: string): string;
}

/** A mail's subject and body, before the greeting and footer are added. */
export interface MailBody {
  subject: string;
  blocks: Block[];
}
