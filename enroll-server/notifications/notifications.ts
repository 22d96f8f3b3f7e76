/**
 * The notifications capability put together: its routes (choices, one-click unsubscribe,
 * webhooks), the dispatcher, the mail sender (SMTP, or .eml files when no mail server is set),
 * the webhook sender and the fleet watch, and `notify` for other capabilities. `app.ts` calls
 * this with the repositories and the server's secret; `start()` after the app is ready.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { EmailLinkRepository } from '../accounts/email-link-repository.js';
import type { EmailLinkTokens } from '../accounts/email-link-tokens.js';
import type { OwnerRepository } from '../accounts/owner-repository.js';
import type { AccountsConfig } from '../core/accounts-config.js';
import type { ActivityLog } from '../core/activity-log.js';
import type { EventOutbox } from '../core/domain-events.js';
import type { App } from '../core/http.js';
import { deriveKey } from '../core/server-secret.js';
import type { Transactional } from '../core/transactions.js';
import type { PresenceSource } from '../nodes/presence-view.js';
import { createEventDispatcher } from './event-dispatcher.js';
import type { EventQueueRepository } from './event-queue-repository.js';
import { createFleetWatch } from './fleet-watch.js';
import type { FleetWatchRepository } from './fleet-watch-repository.js';
import type { MailOutboxRepository } from './mail-outbox-repository.js';
import { createMailSender } from './mail-sender.js';
import { type MailTransport, createFileTransport, createSmtpTransport } from './mail-transport.js';
import {
  DEFAULT_WORKER_INTERVALS,
  type NotificationWorkers,
  type WorkerIntervals,
  startNotificationWorkers,
} from './notification-workers.js';
import { type Notifier, createNotifier } from './notifier.js';
import type { PreferenceRepository } from './preference-repository.js';
import { preferenceRoutes } from './preference-routes.js';
import { unsubscribeRoutes } from './unsubscribe-routes.js';
import type { WebhookRepository } from './webhook-repository.js';
import { webhookRoutes } from './webhook-routes.js';
import { createWebhookSender } from './webhook-sender.js';
import { createWebhookService } from './webhook-service.js';

export interface NotificationDeps {
  repos: Transactional<{
    eventQueue: EventQueueRepository;
    mailOutbox: MailOutboxRepository;
    preferences: PreferenceRepository;
    webhooks: WebhookRepository;
    fleetWatch: FleetWatchRepository;
    owners: OwnerRepository;
    emailLinks: EmailLinkRepository;
    events: EventOutbox;
    activity: ActivityLog;
  }>;
  config: AccountsConfig;
  publicUrl: string;
  dataDir: string;
  secret: Buffer;
  links: EmailLinkTokens;
  presence: PresenceSource;
  now: () => number;
  intervals?: Partial<WorkerIntervals>;
  /** DNS for webhook URLs (default: the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
}

export interface Notifications {
  notifier: Notifier;
  /** Where mail goes (for the start-up log). */
  mailTo: string;
  start(): void;
  stop(): Promise<void>;
}

export function setUpNotifications(app: App, deps: NotificationDeps): Notifications {
  const { repos, config, now } = deps;
  const log = app.log.child({ module: 'notifications' });
  const workerId = `w_${randomBytes(6).toString('hex')}`;
  const webhookKey = deriveKey(deps.secret, 'webhook-secrets');
  const unsubscribeKey = deriveKey(deps.secret, 'unsubscribe');
  const transport: MailTransport = config.smtpUrl
    ? createSmtpTransport(config.smtpUrl)
    : createFileTransport(join(deps.dataDir, 'mail'));
  if (!config.smtpUrl)
    log.warn(
      { event: 'mail_to_files', dir: join(deps.dataDir, 'mail') },
      'HOMENODE_SMTP_URL is not set: mails are written as .eml files instead of being sent. Set it to send them.',
    );

  preferenceRoutes(app, { preferences: repos.preferences, now });
  unsubscribeRoutes(app, { owners: repos.owners, preferences: repos.preferences, key: unsubscribeKey, now });
  webhookRoutes(app, {
    webhooks: createWebhookService({
      repos,
      secretKey: webhookKey,
      allowPrivateAddresses: config.webhooks.allowPrivateAddresses,
      now,
      resolve: deps.resolve,
    }),
  });

  const dispatcher = createEventDispatcher({ repos, opsEmails: config.opsEmails, now, log });
  const mail = createMailSender({
    outbox: repos.mailOutbox,
    transport,
    from: config.mailFrom,
    publicUrl: deps.publicUrl,
    links: deps.links,
    unsubscribeKey,
    retry: config.mailRetry,
    pendingMinutes: config.fleetWatch.pendingMinutes,
    now,
    log,
    workerId,
  });
  const webhooks = createWebhookSender({
    webhooks: repos.webhooks,
    secretKey: webhookKey,
    retry: config.webhookRetry,
    delivery: {
      allowPrivate: config.webhooks.allowPrivateAddresses,
      timeoutMs: config.webhooks.timeoutMs,
      maxResponseBytes: config.webhooks.maxResponseBytes,
    },
    now,
    log,
    workerId,
  });
  const watch = createFleetWatch({
    repos,
    presence: deps.presence,
    config: config.fleetWatch,
    now,
    startedAt: now(),
    log,
  });

  let workers: NotificationWorkers | undefined;
  return {
    notifier: createNotifier({ events: repos.events, now }),
    mailTo: transport.description,
    start() {
      workers ??= startNotificationWorkers(
        {
          dispatch: () => dispatcher.runOnce(),
          sendMail: () => mail.runOnce(),
          deliverWebhooks: () => webhooks.runOnce(),
          watchFleet: () => watch.tick(),
        },
        { ...DEFAULT_WORKER_INTERVALS, ...deps.intervals },
        log,
      );
    },
    async stop() {
      await workers?.stop();
      transport.close();
    },
  };
}
