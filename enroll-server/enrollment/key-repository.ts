/** Installation keys: the public key id, a salted hash of the secret, the owner, expiry and uses. */
export interface InstallationKeyRecord {
  id: string;
  keyId: string;
  secretHash: string;
  ownerId: string;
  label: string | null;
  createdAt: number;
  createdBy: string | null;
  expiresAt: number;
  maxUses: number;
  uses: number;
  revokedAt: number | null;
}

export interface KeyRepository {
  create(record: InstallationKeyRecord): Promise<InstallationKeyRecord>;
  /** Every key ever issued under this public id (ids are reused only after a key is dead). */
  findByKeyId(keyId: string): Promise<InstallationKeyRecord[]>;
  isKeyIdLive(keyId: string, now: number): Promise<boolean>;
  get(id: string): Promise<InstallationKeyRecord | undefined>;
  /** `ownerId` null: every owner's keys. */
  list(ownerId: string | null, limit: number, offset: number): Promise<InstallationKeyRecord[]>;
  /** False when the key was already revoked. */
  revoke(id: string, at: number): Promise<boolean>;
  /** Take one use if the key is still usable at `now`; false when someone else took the last one. */
  consumeUse(id: string, now: number): Promise<boolean>;
}
