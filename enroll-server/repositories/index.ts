/** The repositories: the only code that holds SQL. */
import type { Db } from '../db/database.js';
import { createAuditRepository } from './audit.js';
import { createCommandRepository, createShellSessionRepository } from './commands.js';
import { createFlagRepository } from './flags.js';
import { createKeyRepository } from './keys.js';
import { createNetworkRepository } from './network.js';
import { createNodeRepository } from './nodes.js';
import { createOwnerRepository } from './owners.js';
import { createPayoutRepository } from './payouts.js';
import { createPresenceRepository } from './presence.js';
import { createTokenRepository } from './tokens.js';
import { createUsageRepository } from './usage.js';

export function createRepositories(db: Db) {
  return {
    owners: createOwnerRepository(db),
    tokens: createTokenRepository(db),
    keys: createKeyRepository(db),
    nodes: createNodeRepository(db),
    audit: createAuditRepository(db),
    flags: createFlagRepository(db),
    presence: createPresenceRepository(db),
    usage: createUsageRepository(db),
    network: createNetworkRepository(db),
    commands: createCommandRepository(db),
    shellSessions: createShellSessionRepository(db),
    payouts: createPayoutRepository(db),
    /** Run `fn` in one transaction (BEGIN IMMEDIATE), rolled back if it throws. */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn).immediate();
    },
    /** True when the database answers a trivial query (readiness). */
    ping(): boolean {
      return db.prepare('SELECT 1 AS ok').get() !== undefined;
    },
    /** A consistent copy of the live database (SQLite's online backup), written to `destination`. */
    async backup(destination: string): Promise<void> {
      await db.backup(destination);
    },
  };
}
export type Repositories = ReturnType<typeof createRepositories>;
