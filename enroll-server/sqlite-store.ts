/** The repositories: the only code that holds SQL. */
import type { Db } from './core/sqlite/database.js';
import { createAuditRepository } from './core/sqlite/activity-log.js';
import {
  createCommandRepository,
  createShellSessionRepository,
} from './control/sqlite/command-repository.js';
import { createFlagRepository } from './nodes/sqlite/flag-repository.js';
import { createKeyRepository } from './enrollment/sqlite/key-repository.js';
import { createNetworkRepository } from './control/sqlite/network-repository.js';
import { createNodeRepository } from './nodes/sqlite/node-repository.js';
import { createOwnerRepository } from './accounts/sqlite/owner-repository.js';
import { createPayoutRepository } from './payouts/sqlite/payout-repository.js';
import { createPresenceRepository } from './control/sqlite/presence-repository.js';
import { createTokenRepository } from './accounts/sqlite/token-repository.js';
import { createUsageRepository } from './control/sqlite/usage-repository.js';

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
