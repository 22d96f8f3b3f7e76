/**
 * Every repository the server has, by capability, behind engine-neutral interfaces (each method
 * returns a promise; transactions go through `transaction`). `sqlite-store.ts` implements them on
 * better-sqlite3; another engine (PostgreSQL) implements the same `Store`. Only the composition
 * root (`app.ts`) and the engines import this file: services name the repositories they use.
 */
import type { CredentialRepository } from './accounts/credential-repository.js';
import type { EmailLinkRepository } from './accounts/email-link-repository.js';
import type { IdentityRepository } from './accounts/identity-repository.js';
import type { OwnerRepository } from './accounts/owner-repository.js';
import type { AuditRepository } from './audits/audit-repository.js';
import type { SessionRepository } from './accounts/session-repository.js';
import type { TokenRepository } from './accounts/token-repository.js';
import type { ArtifactRepository } from './artifacts/artifact-repository.js';
import type { CommandRepository, ShellSessionRepository } from './control/command-repository.js';
import type { NetworkRepository } from './network/network-repository.js';
import type { PresenceRepository } from './control/presence-repository.js';
import type { ReplayRepository } from './control/replay-repository.js';
import type { AttemptRepository } from './core/attempt-repository.js';
import type { UsageRepository } from './control/usage-repository.js';
import type { ActivityLog } from './core/activity-log.js';
import type { EventOutbox } from './core/domain-events.js';
import type { Transactional } from './core/transactions.js';
import type { KeyRepository } from './enrollment/key-repository.js';
import type { FlagRepository } from './nodes/flag-repository.js';
import type { NodeRepository } from './nodes/node-repository.js';
import type { EventQueueRepository } from './notifications/event-queue-repository.js';
import type { FleetWatchRepository } from './notifications/fleet-watch-repository.js';
import type { MailOutboxRepository } from './notifications/mail-outbox-repository.js';
import type { PreferenceRepository } from './notifications/preference-repository.js';
import type { WebhookRepository } from './notifications/webhook-repository.js';
import type { MessageBus } from './core/message-bus.js';
import type { PayoutRepository } from './payouts/payout-repository.js';
import type { ReplicaRepository } from './replicas/replica-repository.js';
import type { RolloutRepository } from './rollouts/rollout-repository.js';

export interface RepositorySet {
  // core
  activity: ActivityLog;
  events: EventOutbox;
  // accounts
  owners: OwnerRepository;
  tokens: TokenRepository;
  sessions: SessionRepository;
  emailLinks: EmailLinkRepository;
  identities: IdentityRepository;
  credentials: CredentialRepository;
  // enrollment
  keys: KeyRepository;
  // nodes
  nodes: NodeRepository;
  flags: FlagRepository;
  // control
  presence: PresenceRepository;
  usage: UsageRepository;
  commands: CommandRepository;
  shellSessions: ShellSessionRepository;
  replay: ReplayRepository;
  /** Failed attempts per key, shared by every replica (sign-in, enrollment, reset links). */
  attempts: AttemptRepository;
  // network
  network: NetworkRepository;
  // payouts
  payouts: PayoutRepository;
  // artifacts
  artifacts: ArtifactRepository;
  // notifications
  eventQueue: EventQueueRepository;
  mailOutbox: MailOutboxRepository;
  preferences: PreferenceRepository;
  webhooks: WebhookRepository;
  fleetWatch: FleetWatchRepository;
  // audits
  audits: AuditRepository;
  // replicas
  replicas: ReplicaRepository;
  // rollouts
  rollouts: RolloutRepository;
}

export type Repositories = Transactional<RepositorySet>;

/** A database engine: its repositories and what operators need of the database itself. */
export interface Store {
  repos: Repositories;
  /** Messages between the replicas that share this database (in-process with SQLite). */
  bus: MessageBus;
  /**
   * Whether other server processes may share this database (PostgreSQL) or this process is the
   * only one (SQLite): then every other replica in the registry is a previous run of this server.
   */
  shared: boolean;
  /** True when the database answers a trivial query (readiness). */
  ping(): Promise<boolean>;
  /** A consistent copy of the live database, written to `destination` while the server runs. */
  backup(destination: string): Promise<void>;
  close(): Promise<void>;
}
