/** Dashboard cookie sessions and owners' password hashes. Only hashes of session secrets are stored. */
export type SessionMethod = 'token' | 'password' | 'signup' | 'oidc';

export interface SessionRecord {
  id: string;
  tokenId: string;
  csrfToken: string;
  method: SessionMethod;
  createdAt: number;
  lastUsedAt: number;
  expiresAt: number;
  endedAt: number | null;
}

export interface OwnerPassword {
  ownerId: string;
  passwordHash: string;
  tokenId: string;
}

export interface SessionRepository {
  create(record: Omit<SessionRecord, 'lastUsedAt' | 'endedAt'>, secretHash: string): Promise<void>;
  /** The live session whose secret hashes to `hash`, or undefined. */
  findActive(hash: string, now: number): Promise<SessionRecord | undefined>;
  touch(id: string, at: number, expiresAt: number): Promise<void>;
  end(id: string, at: number): Promise<boolean>;
  /** Drop sessions that ended or expired before `before`. */
  purge(before: number): Promise<number>;
  setPassword(ownerId: string, passwordHash: string, tokenId: string, at: number): Promise<void>;
  passwordForEmail(email: string): Promise<OwnerPassword | undefined>;
  /** Swap the stored hash for a new one of the same password (a rehash); false if it changed meanwhile. */
  replacePasswordHash(ownerId: string, before: string, after: string, at: number): Promise<boolean>;
}
