/**
 * A relay in front of the real server for the daemon's audit tests. The server does not schedule
 * audits yet (that part comes next), so the relay plays only that role: it injects `audit` frames
 * toward the agent and records the agent's `audit-*` frames; everything else passes through both
 * ways unchanged, and plain HTTP requests are forwarded. It can also cut every connection and
 * refuse new ones (the server being away).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';

export interface RelayedFrame {
  type: string;
  [key: string]: unknown;
}

export async function startAuditRelay(target: string) {
  const wss = new WebSocketServer({ noServer: true });
  const clients = new Set<WebSocket>();
  const captured: RelayedFrame[] = [];
  const listeners = new Set<() => void>();
  const state = { refuse: false };

  const server = http.createServer((req, res) => {
    const upstream = http.request(
      new URL(req.url ?? '/', target),
      { method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.on('upgrade', (req, socket, head) => {
    if (state.refuse) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = new WebSocket(target.replace(/^http/, 'ws') + (req.url ?? '/'), {
      headers: { authorization: req.headers.authorization ?? '' },
    });
    upstream.once('error', () => socket.destroy());
    upstream.once('unexpected-response', () => socket.destroy());
    upstream.once('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        clients.add(client);
        upstream.on('message', (data: Buffer) => client.send(data.toString()));
        client.on('message', (data: Buffer) => {
          const text = data.toString();
          const frame = JSON.parse(text) as RelayedFrame;
          if (frame.type.startsWith('audit')) {
            captured.push(frame);
            for (const listener of listeners) listener();
            return;
          }
          upstream.send(text);
        });
        const end = () => {
          clients.delete(client);
          client.terminate();
          upstream.terminate();
        };
        client.on('close', end);
        upstream.on('close', end);
        for (const listener of listeners) listener();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const waitUntil = (test: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(
          new Error(`relay: never saw ${what}; captured ${JSON.stringify(captured.map((f) => f.type))}`),
        );
      }, timeoutMs);
      const check = () => {
        if (!test()) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve();
      };
      listeners.add(check);
      check();
    });

  return {
    url: `http://127.0.0.1:${port}`,
    captured,
    state,
    /** Resolves once an agent connection is relayed. */
    connected: (timeoutMs = 20_000) => waitUntil(() => clients.size > 0, 'a connection', timeoutMs),
    /** Send a frame to every connected agent, as the server would. */
    inject(frame: Record<string, unknown>): void {
      for (const client of clients) client.send(JSON.stringify(frame));
    },
    async frame(
      match: (f: RelayedFrame) => boolean,
      what: string,
      timeoutMs = 60_000,
    ): Promise<RelayedFrame> {
      await waitUntil(() => captured.some(match), what, timeoutMs);
      return captured.find(match)!;
    },
    cutAll(): void {
      for (const client of clients) client.terminate();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
