/** Accounts at OpenID Connect providers (and GitHub) linked to owners, by the provider's subject. */
export interface OwnerIdentity {
  provider: string;
  subject: string;
  ownerId: string;
  email: string | null;
  createdAt: number;
  lastUsedAt: number;
}

export interface IdentityRepository {
  find(provider: string, subject: string): Promise<OwnerIdentity | undefined>;
  link(identity: OwnerIdentity): Promise<void>;
  touch(provider: string, subject: string, at: number): Promise<void>;
  forOwner(ownerId: string): Promise<OwnerIdentity[]>;
}
