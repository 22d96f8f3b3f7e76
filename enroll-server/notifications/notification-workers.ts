/**
 * The background loops of notifications: dispatch domain events, send mail, deliver webhooks,
 * watch the fleet. Each loop runs its step, waits its interval (a timer that does not keep the
 * process alive) and never overlaps itself; after dispatching, the senders are woken at once.
 * `stop()` waits for steps in flight, so nothing writes to the database after it closes.
 */
import type { FastifyBaseLogger } from 'fastify';

export interface WorkerIntervals {
  dispatchMs: number;
  mailMs: number;
  webhookMs: number;
  watchMs: number;
}

export const DEFAULT_WORKER_INTERVALS: WorkerIntervals = {
  dispatchMs: 1000,
  mailMs: 2000,
  webhookMs: 2000,
  watchMs: 30_000,
};

interface Loop {
  wake(): void;
  stop(): Promise<void>;
}

function startLoop(
  name: string,
  step: () => Promise<unknown>,
  intervalMs: number,
  log: FastifyBaseLogger,
): Loop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  let again = false;
  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(run, ms);
    timer.unref();
  };
  function run(): void {
    if (running) {
      again = true;
      return;
    }
    running = step()
      .then(
        () => undefined,
        (error: unknown) =>
          log.error({ err: error, event: 'notification_loop_failed', loop: name }, `${name} step failed`),
      )
      .finally(() => {
        running = undefined;
        schedule(again ? 0 : intervalMs);
        again = false;
      });
  }
  schedule(0);
  return {
    wake: () => schedule(0),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export interface NotificationSteps {
  dispatch: () => Promise<number>;
  sendMail: () => Promise<number>;
  deliverWebhooks: () => Promise<number>;
  watchFleet: () => Promise<void>;
}

export function startNotificationWorkers(
  steps: NotificationSteps,
  intervals: WorkerIntervals,
  log: FastifyBaseLogger,
) {
  const mail = startLoop('mail', steps.sendMail, intervals.mailMs, log);
  const webhooks = startLoop('webhooks', steps.deliverWebhooks, intervals.webhookMs, log);
  const dispatch = startLoop(
    'dispatch',
    async () => {
      if ((await steps.dispatch()) > 0) {
        mail.wake();
        webhooks.wake();
      }
    },
    intervals.dispatchMs,
    log,
  );
  const watch = startLoop('fleet-watch', steps.watchFleet, intervals.watchMs, log);
  return {
    async stop(): Promise<void> {
      await Promise.all([dispatch.stop(), mail.stop(), webhooks.stop(), watch.stop()]);
    },
  };
}
export type NotificationWorkers = ReturnType<typeof startNotificationWorkers>;
