/** Owners' notification choices, and addresses (ops) that unsubscribed from a category. */
export interface StoredPreferences {
  choices: Partial<Record<string, boolean>>;
  offlineMinutes: number;
}

export interface PreferenceRepository {
  get(ownerId: string): Promise<StoredPreferences | undefined>;
  /** Choices of several owners at once (the fleet watch reads thresholds for many). */
  getMany(ownerIds: readonly string[]): Promise<Map<string, StoredPreferences>>;
  put(ownerId: string, preferences: StoredPreferences, at: number): Promise<void>;
  isSuppressed(address: string, category: string): Promise<boolean>;
  suppress(address: string, category: string, at: number): Promise<void>;
}
