/** API tokens: stored only as a hash of the token, each with one role. */
import type { Role } from '../../protocol/api.js';

export interface ApiTokenRecord {
  id: string;
  role: Role;
  ownerId: string | null;
  label: string | null;
  createdAt: number;
  createdBy: string | null;
  revokedAt: number | null;
}

export interface TokenRepository {
  create(record: Omit<ApiTokenRecord, 'revokedAt'>, tokenHash: string): Promise<ApiTokenRecord>;
  findActiveByHash(tokenHash: string): Promise<ApiTokenRecord | undefined>;
  get(id: string): Promise<ApiTokenRecord | undefined>;
  list(): Promise<ApiTokenRecord[]>;
  /** False when the token was already revoked. */
  revoke(id: string, at: number): Promise<boolean>;
  count(): Promise<number>;
}
