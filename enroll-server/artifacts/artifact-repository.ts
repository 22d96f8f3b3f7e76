/** Artifacts as stored: one row per name and version, immutable; the bytes are in the blob store. */
export interface ArtifactRecord {
  name: string;
  version: string;
  sha256: string;
  size: number;
  /** The release key's compact JWS over `{ name, version, sha256, size }`. */
  signature: string;
  /** The API token that uploaded it. */
  uploadedBy: string | null;
  createdAt: number;
}

export interface ArtifactRepository {
  /** False when this name and version exist already (they never change). */
  insert(artifact: ArtifactRecord): Promise<boolean>;
  get(name: string, version: string): Promise<ArtifactRecord | undefined>;
  /** Newest first; only `name` when given. */
  list(options: { name?: string; limit: number }): Promise<ArtifactRecord[]>;
  /** The most recently uploaded version of `name`. */
  newest(name: string): Promise<ArtifactRecord | undefined>;
  /** How many rows hold these bytes (a blob no row holds can go). */
  countBySha256(sha256: string): Promise<number>;
}
