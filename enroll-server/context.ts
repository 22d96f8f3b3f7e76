/** What routes are given: configuration, repositories and services, wired by hand in `buildApp`. */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { ServerConfig } from './config.js';
import type { ControlHub } from './control/hub.js';
import type { Metrics } from './plugins/metrics.js';
import type { Repositories } from './repositories/index.js';
import type { EnrollmentService } from './services/enrollment.js';
import type { KeyService } from './services/keys.js';
import type { NodeEvents } from './services/node-events.js';
import type { NodeService } from './services/nodes.js';
import type { PayoutService } from './services/payouts.js';
import type { PresenceSource } from './services/presence.js';

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

export interface AppContext {
  config: ServerConfig;
  repos: Repositories;
  now: () => number;
  metrics: Metrics;
  presence: PresenceSource;
  events: NodeEvents;
  enrollment: EnrollmentService;
  keys: KeyService;
  nodes: NodeService;
  hub: ControlHub;
  payouts: PayoutService;
}
