/**
 * Messages between the server's replicas (node status changes, commands for the replica that
 * holds a node's session, session hand-overs). PostgreSQL carries them with LISTEN/NOTIFY
 * (`core/postgres/notify-bus.ts`); with SQLite there is one process and they stay in it.
 * A message is published to every replica, the publisher included. Payloads are small JSON texts
 * (under 8000 bytes, PostgreSQL's limit); anything bigger is read from the database by id.
 */
export const BUS_CHANNELS = ['node_status', 'node_command', 'command_result', 'session_taken'] as const;
export type BusChannel = (typeof BUS_CHANNELS)[number];

/** PostgreSQL's limit for a NOTIFY payload is 8000 bytes. */
export const MAX_BUS_PAYLOAD_BYTES = 7_900;

export interface MessageBus {
  publish(channel: BusChannel, payload: string): Promise<void>;
  /** `handler` receives every message on the channel, including this replica's own. */
  subscribe(channel: BusChannel, handler: (payload: string) => void): () => void;
  close(): Promise<void>;
}

export class BusPayloadTooLargeError extends Error {
  constructor(channel: BusChannel, bytes: number) {
    super(
      `A ${channel} message of ${bytes} bytes is over the ${MAX_BUS_PAYLOAD_BYTES}-byte limit of the replica bus.`,
    );
    this.name = 'BusPayloadTooLargeError';
  }
}

export function checkPayload(channel: BusChannel, payload: string): void {
  const bytes = Buffer.byteLength(payload);
  if (bytes > MAX_BUS_PAYLOAD_BYTES) throw new BusPayloadTooLargeError(channel, bytes);
}

/** Fans a message out to this process's handlers; a handler that throws is reported, not fatal. */
export class Subscribers {
  private readonly handlers = new Map<BusChannel, Set<(payload: string) => void>>();

  constructor(private readonly onError: (error: unknown) => void) {}

  add(channel: BusChannel, handler: (payload: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  deliver(channel: BusChannel, payload: string): void {
    for (const handler of this.handlers.get(channel) ?? []) {
      try {
        handler(payload);
      } catch (error) {
        this.onError(error);
      }
    }
  }
}

/** One process, one replica (SQLite): messages go to this process's handlers, on a later tick. */
export function createLocalBus(onError: (error: unknown) => void): MessageBus {
  const subscribers = new Subscribers(onError);
  return {
    publish: async (channel, payload) => {
      checkPayload(channel, payload);
      setImmediate(() => subscribers.deliver(channel, payload));
    },
    subscribe: (channel, handler) => subscribers.add(channel, handler),
    close: async () => {},
  };
}
