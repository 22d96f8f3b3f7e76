/**
 * A TCP proxy in front of the server that passes everything through (the control channel's
 * WebSocket included) but cuts the first artifact download after `cutAfter` bytes of the answer:
 * the home line that drops in the middle of a 70 MB k3s. It records each download request's
 * `Range` header, so a test can see the agent resume instead of starting again.
 */
import net from 'node:net';

export interface CuttingProxy {
  url: string;
  /** The `Range` header of each artifact request, in order ('' when there was none). */
  ranges: string[];
  /** Bytes of answer passed on before the cut (0 until it happened). */
  cutAt: number;
  close(): Promise<void>;
}

const DOWNLOAD = /^GET \/v1\/artifacts\/\S+ HTTP\/1\.1\r\n/;

export async function startCuttingProxy(target: string, cutAfter: number): Promise<CuttingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const state: CuttingProxy = { url: '', ranges: [], cutAt: 0, close: async () => undefined };
  let cut = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    sockets.add(client).add(upstream);
    let first = true;
    let watch = false;
    let passed = 0;
    client.on('data', (chunk: Buffer) => {
      if (first) {
        first = false;
        const head = chunk.toString('latin1');
        if (DOWNLOAD.test(head)) {
          state.ranges.push(/\r\nrange: *([^\r\n]*)/i.exec(head)?.[1] ?? '');
          if (!cut) watch = true;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (watch && passed + chunk.length >= cutAfter) {
        const keep = cutAfter - passed;
        cut = true;
        watch = false;
        state.cutAt = cutAfter;
        client.write(chunk.subarray(0, keep), () => {
          client.destroy();
          upstream.destroy();
        });
        return;
      }
      passed += chunk.length;
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  state.url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}
