/**
 * The replica bus on PostgreSQL: `pg_notify` to publish, one dedicated connection that LISTENs to
 * every channel. Notifications are delivered after the publishing transaction commits, to every
 * listener, the publisher included. When the listening connection breaks (the database restarted)
 * it reconnects with capped backoff and listens again; what was published meanwhile is not
 * replayed, so every user of the bus also reads the database (commands wait with a timeout and
 * read their result row; status pushes are re-read by the node's replica at its next connect).
 */
import pg from 'pg';
import { type BusChannel, BUS_CHANNELS, type MessageBus, Subscribers, checkPayload } from '../message-bus.js';
import type { Pool } from './database.js';

const PREFIX = 'homenode_';

export interface NotifyBusOptions {
  pool: Pool;
  /** Connection settings for the listening connection (the pool's URL). */
  connectionString: string;
  onError: (error: unknown) => void;
  /** Told when the listening connection is up again after a break. */
  onReconnect?: () => void;
}

export async function createNotifyBus(options: NotifyBusOptions): Promise<MessageBus> {
  const subscribers = new Subscribers(options.onError);
  let client: pg.Client | null = null;
  let closed = false;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: options.connectionString, keepAlive: true });
    next.on('notification', (message) => {
      const channel = BUS_CHANNELS.find((c) => PREFIX + c === message.channel);
      if (channel && message.payload !== undefined) subscribers.deliver(channel, message.payload);
    });
    next.on('error', (error) => {
      options.onError(error);
      lost(next);
    });
    next.on('end', () => lost(next));
    try {
      await next.connect();
      for (const channel of BUS_CHANNELS) await next.query(`LISTEN ${PREFIX}${channel}`);
    } catch (error) {
      await next.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await next.end().catch(() => undefined);
      return;
    }
    client = next;
    attempt = 0;
  };

  const scheduleReconnect = () => {
    if (closed || retryTimer) return;
    const delay = Math.min(10_000, 250 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      connect().then(
        () => options.onReconnect?.(),
        (error: unknown) => {
          options.onError(error);
          scheduleReconnect();
        },
      );
    }, delay);
    retryTimer.unref();
  };

  const lost = (broken: pg.Client) => {
    if (client !== broken) return;
    client = null;
    broken.end().catch(() => undefined);
    scheduleReconnect();
  };

  await connect();
  return {
    publish: async (channel: BusChannel, payload: string) => {
      checkPayload(channel, payload);
      await options.pool.query('SELECT pg_notify($1, $2)', [PREFIX + channel, payload]);
    },
    subscribe: (channel, handler) => subscribers.add(channel, handler),
    close: async () => {
      closed = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      const current = client;
      client = null;
      await current?.end().catch(() => undefined);
    },
  };
}
