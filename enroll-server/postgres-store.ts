/**
 * PostgreSQL behind the same repositories as SQLite (`HOMENODE_DATABASE_URL=postgres://…`): one
 * pooled connection per transaction, SERIALIZABLE with retries (`core/postgres/engine.ts`), the
 * numbered migrations of `core/postgres/migrations/` applied at start-up under an advisory lock.
 */
import { postgresCredentialRepository } from './accounts/postgres/credential-repository.js';
import { postgresEmailLinkRepository } from './accounts/postgres/email-link-repository.js';
import { postgresIdentityRepository } from './accounts/postgres/identity-repository.js';
import { postgresArtifactRepository } from './artifacts/postgres/artifact-repository.js';
import { postgresRolloutRepository } from './rollouts/postgres/rollout-repository.js';
import { postgresAuditRepository } from './audits/postgres/audit-repository.js';
import { postgresOwnerRepository } from './accounts/postgres/owner-repository.js';
import { postgresSessionRepository } from './accounts/postgres/session-repository.js';
import { postgresTokenRepository } from './accounts/postgres/token-repository.js';
import {
  postgresCommandRepository,
  postgresShellSessionRepository,
} from './control/postgres/command-repository.js';
import { postgresPresenceRepository } from './control/postgres/presence-repository.js';
import { postgresReplayRepository } from './control/postgres/replay-repository.js';
import { postgresAttemptRepository } from './core/postgres/attempt-repository.js';
import { postgresUsageRepository } from './control/postgres/usage-repository.js';
import { BackupUnavailableError } from './core/errors.js';
import type { MessageBus } from './core/message-bus.js';
import { postgresActivityLog } from './core/postgres/activity-log.js';
import { postgresEventOutbox } from './core/postgres/event-outbox.js';
import { createNotifyBus } from './core/postgres/notify-bus.js';
import {
  type Pool,
  type PoolOptions,
  createPool,
  migratePostgres,
  pingPostgres,
} from './core/postgres/database.js';
import { type BindRepositories, type PostgresEngineOptions, PostgresEngine } from './core/postgres/engine.js';
import { postgresKeyRepository } from './enrollment/postgres/key-repository.js';
import { postgresNetworkRepository } from './network/postgres/network-repository.js';
import { postgresFlagRepository } from './nodes/postgres/flag-repository.js';
import { postgresNodeRepository } from './nodes/postgres/node-repository.js';
import { postgresEventQueueRepository } from './notifications/postgres/event-queue-repository.js';
import { postgresFleetWatchRepository } from './notifications/postgres/fleet-watch-repository.js';
import { postgresMailOutboxRepository } from './notifications/postgres/mail-outbox-repository.js';
import { postgresPreferenceRepository } from './notifications/postgres/preference-repository.js';
import { postgresWebhookRepository } from './notifications/postgres/webhook-repository.js';
import { postgresPayoutRepository } from './payouts/postgres/payout-repository.js';
import { postgresReplicaRepository } from './replicas/postgres/replica-repository.js';
import type { Repositories, RepositorySet, Store } from './repositories.js';

export const postgresRepositorySet: BindRepositories<RepositorySet> = (sql) => ({
  activity: postgresActivityLog(sql),
  events: postgresEventOutbox(sql),
  owners: postgresOwnerRepository(sql),
  tokens: postgresTokenRepository(sql),
  sessions: postgresSessionRepository(sql),
  emailLinks: postgresEmailLinkRepository(sql),
  identities: postgresIdentityRepository(sql),
  credentials: postgresCredentialRepository(sql),
  keys: postgresKeyRepository(sql),
  nodes: postgresNodeRepository(sql),
  flags: postgresFlagRepository(sql),
  presence: postgresPresenceRepository(sql),
  usage: postgresUsageRepository(sql),
  network: postgresNetworkRepository(sql),
  commands: postgresCommandRepository(sql),
  shellSessions: postgresShellSessionRepository(sql),
  replay: postgresReplayRepository(sql),
  attempts: postgresAttemptRepository(sql),
  payouts: postgresPayoutRepository(sql),
  artifacts: postgresArtifactRepository(sql),
  rollouts: postgresRolloutRepository(sql),
  eventQueue: postgresEventQueueRepository(sql),
  mailOutbox: postgresMailOutboxRepository(sql),
  preferences: postgresPreferenceRepository(sql),
  webhooks: postgresWebhookRepository(sql),
  fleetWatch: postgresFleetWatchRepository(sql),
  audits: postgresAuditRepository(sql),
  replicas: postgresReplicaRepository(sql),
});

/** The root repositories over an open, migrated pool. */
export function createPostgresRepositories(pool: Pool, options?: PostgresEngineOptions): Repositories {
  return new PostgresEngine(pool, postgresRepositorySet, options).repositories();
}

export interface PostgresStoreOptions extends PoolOptions, PostgresEngineOptions {
  /** Problems of the replica bus's listening connection (it reconnects by itself). */
  onBusError?: (error: unknown) => void;
}

/** Connects, migrates (waiting for any replica that migrates at the same time) and builds the store. */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  const pool = createPool(url, options);
  let bus: MessageBus;
  try {
    await migratePostgres(pool);
    bus = await createNotifyBus({ pool, connectionString: url, onError: options.onBusError ?? (() => {}) });
  } catch (error) {
    await pool.end();
    throw error;
  }
  return {
    repos: createPostgresRepositories(pool, options),
    bus,
    shared: true,
    ping: () => pingPostgres(pool),
    backup: async () => {
      throw new BackupUnavailableError(
        'This server keeps its data in PostgreSQL, which this route cannot copy. Back it up with pg_dump, or with your PostgreSQL service’s own backups.',
        { details: { reason: 'POSTGRESQL' } },
      );
    },
    close: async () => {
      await bus.close();
      await pool.end();
    },
  };
}
