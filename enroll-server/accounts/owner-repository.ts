/** Owners: the home users whose machines earn. */
export interface Owner {
  id: string;
  email: string;
  name: string;
  createdAt: number;
}

export interface OwnerRepository {
  create(owner: Owner): Promise<Owner>;
  get(id: string): Promise<Owner | undefined>;
  getByEmail(email: string): Promise<Owner | undefined>;
  /** `q` matches email or name (case-insensitive substring); '' lists all. */
  list(q: string, limit: number, offset: number): Promise<Owner[]>;
}
