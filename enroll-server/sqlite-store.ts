/**
 * The embedded engine: every repository on one better-sqlite3 connection (WAL), asynchronous
 * through `SqliteEngine`, which keeps other calls out of an open transaction.
 */
import { sqliteCredentialRepository } from './accounts/sqlite/credential-repository.js';
import { sqliteEmailLinkRepository } from './accounts/sqlite/email-link-repository.js';
import { sqliteIdentityRepository } from './accounts/sqlite/identity-repository.js';
import { sqliteOwnerRepository } from './accounts/sqlite/owner-repository.js';
import { sqliteSessionRepository } from './accounts/sqlite/session-repository.js';
import { sqliteTokenRepository } from './accounts/sqlite/token-repository.js';
import { sqliteArtifactRepository } from './artifacts/sqlite/artifact-repository.js';
import { sqliteRolloutRepository } from './rollouts/sqlite/rollout-repository.js';
import { sqliteAuditRepository } from './audits/sqlite/audit-repository.js';
import {
  sqliteCommandRepository,
  sqliteShellSessionRepository,
} from './control/sqlite/command-repository.js';
import { sqliteNetworkRepository } from './network/sqlite/network-repository.js';
import { sqlitePresenceRepository } from './control/sqlite/presence-repository.js';
import { sqliteReplayRepository } from './control/sqlite/replay-repository.js';
import { sqliteAttemptRepository } from './core/sqlite/attempt-repository.js';
import { sqliteUsageRepository } from './control/sqlite/usage-repository.js';
import { createLocalBus } from './core/message-bus.js';
import { sqliteActivityLog } from './core/sqlite/activity-log.js';
import { type Db, pingDatabase } from './core/sqlite/database.js';
import { sqliteEventOutbox } from './core/sqlite/event-outbox.js';
import { type BindRepositories, SqliteEngine } from './core/sqlite/engine.js';
import { sqliteKeyRepository } from './enrollment/sqlite/key-repository.js';
import { sqliteFlagRepository } from './nodes/sqlite/flag-repository.js';
import { sqliteNodeRepository } from './nodes/sqlite/node-repository.js';
import { sqliteEventQueueRepository } from './notifications/sqlite/event-queue-repository.js';
import { sqliteFleetWatchRepository } from './notifications/sqlite/fleet-watch-repository.js';
import { sqliteMailOutboxRepository } from './notifications/sqlite/mail-outbox-repository.js';
import { sqlitePreferenceRepository } from './notifications/sqlite/preference-repository.js';
import { sqliteWebhookRepository } from './notifications/sqlite/webhook-repository.js';
import { sqlitePayoutRepository } from './payouts/sqlite/payout-repository.js';
import { sqliteReplicaRepository } from './replicas/sqlite/replica-repository.js';
import type { Repositories, RepositorySet, Store } from './repositories.js';

/** Prepares every statement once; the result binds a repository set to a root or a transaction. */
export function sqliteRepositorySet(db: Db): BindRepositories<RepositorySet> {
  const activity = sqliteActivityLog(db);
  const owners = sqliteOwnerRepository(db);
  const tokens = sqliteTokenRepository(db);
  const sessions = sqliteSessionRepository(db);
  const keys = sqliteKeyRepository(db);
  const nodes = sqliteNodeRepository(db);
  const flags = sqliteFlagRepository(db);
  const presence = sqlitePresenceRepository(db);
  const usage = sqliteUsageRepository(db);
  const network = sqliteNetworkRepository(db);
  const commands = sqliteCommandRepository(db);
  const shellSessions = sqliteShellSessionRepository(db);
  const replay = sqliteReplayRepository(db);
  const attempts = sqliteAttemptRepository(db);
  const payouts = sqlitePayoutRepository(db);
  const events = sqliteEventOutbox(db);
  const emailLinks = sqliteEmailLinkRepository(db);
  const identities = sqliteIdentityRepository(db);
  const credentials = sqliteCredentialRepository(db);
  const eventQueue = sqliteEventQueueRepository(db);
  const mailOutbox = sqliteMailOutboxRepository(db);
  const preferences = sqlitePreferenceRepository(db);
  const webhooks = sqliteWebhookRepository(db);
  const fleetWatch = sqliteFleetWatchRepository(db);
  const replicas = sqliteReplicaRepository(db);
  const artifacts = sqliteArtifactRepository(db);
  const rollouts = sqliteRolloutRepository(db);
  const audits = sqliteAuditRepository(db);
  return (run) => ({
    activity: activity(run),
    owners: owners(run),
    tokens: tokens(run),
    sessions: sessions(run),
    keys: keys(run),
    nodes: nodes(run),
    flags: flags(run),
    presence: presence(run),
    usage: usage(run),
    network: network(run),
    commands: commands(run),
    shellSessions: shellSessions(run),
    replay: replay(run),
    attempts: attempts(run),
    payouts: payouts(run),
    events: events(run),
    emailLinks: emailLinks(run),
    identities: identities(run),
    credentials: credentials(run),
    eventQueue: eventQueue(run),
    mailOutbox: mailOutbox(run),
    preferences: preferences(run),
    webhooks: webhooks(run),
    fleetWatch: fleetWatch(run),
    replicas: replicas(run),
    artifacts: artifacts(run),
    rollouts: rollouts(run),
    audits: audits(run),
  });
}

/** The root repositories of an open database (migrated by `openDatabase`). */
export function createSqliteRepositories(db: Db): Repositories {
  return new SqliteEngine(db, sqliteRepositorySet(db)).repositories();
}

/** `closeDb`: false when the caller opened the database and closes it itself. */
export function createSqliteStore(
  db: Db,
  options: { closeDb: boolean; onBusError?: (error: unknown) => void },
): Store {
  const engine = new SqliteEngine(db, sqliteRepositorySet(db));
  const repos = engine.repositories();
  return {
    repos,
    bus: createLocalBus(options.onBusError ?? (() => {})),
    shared: false,
    // Through the engine, so that readiness waits for an open transaction like any other call.
    ping: () => engine.run(() => pingDatabase(db)),
    backup: async (destination) => {
      await db.backup(destination);
    },
    close: async () => {
      if (options.closeDb) db.close();
    },
  };
}
