/**
 * A TCP proxy on loopback that, at random, stalls traffic for a while or cuts the connection in
 * the middle of a frame: what a flaky home connection does to a WebSocket.
 */
import { type Server, type Socket, connect, createServer } from 'node:net';

export interface ChaosOptions {
  target: { host: string; port: number };
  /** Chance per chunk that the connection is cut. */
  cutChance: number;
  /** Chance per chunk that forwarding stalls for `stallMs`. */
  stallChance: number;
  stallMs: number;
  random?: () => number;
}

export interface ChaosProxy {
  url: string;
  cuts: number;
  stalls: number;
  close(): Promise<void>;
}

export async function startChaosProxy(options: ChaosOptions): Promise<ChaosProxy> {
  const random = options.random ?? Math.random;
  const sockets = new Set<Socket>();
  const proxy: ChaosProxy = { url: '', cuts: 0, stalls: 0, close: async () => undefined };
  const pipeWithChaos = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (random() < options.cutChance) {
        proxy.cuts += 1;
        // Forward part of the chunk, then cut: the peer sees a torn frame.
        to.write(chunk.subarray(0, Math.floor(chunk.length / 2)));
        from.destroy();
        to.destroy();
        return;
      }
      if (random() < options.stallChance) {
        proxy.stalls += 1;
        from.pause();
        setTimeout(() => {
          if (!to.destroyed) to.write(chunk);
          from.resume();
        }, options.stallMs);
        return;
      }
      to.write(chunk);
    });
    from.on('close', () => to.destroy());
    from.on('error', () => to.destroy());
  };
  const server: Server = createServer((client) => {
    const upstream = connect(options.target.port, options.target.host);
    sockets.add(client).add(upstream);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
    pipeWithChaos(client, upstream);
    pipeWithChaos(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  proxy.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  proxy.close = () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return proxy;
}
