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
import type { ControlHub } from '../control/hub.js';
import type { Metrics } from './metrics.js';
import type { Repositories } from '../sqlite-store.js';
import type { EnrollmentService } from '../enrollment/enrollment-service.js';
import type { KeyService } from '../enrollment/key-service.js';
import type { NodeEvents } from '../nodes/node-events.js';
import type { NodeService } from '../nodes/node-service.js';
import type { PayoutService } from '../payouts/payout-service.js';
import type { PresenceSource } from '../nodes/presence-view.js';

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
