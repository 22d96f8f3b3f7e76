/**
 * A relay between the real agent and the real server that passes everything on unchanged (HTTP
 * requests and WebSocket frames both ways) and reports the server's pings. Tests that move the
 * server's clock forward by hours move it right after a ping was answered: the server's liveness
 * check (no sign of life for 45 s) runs at ping time, so the session survives the jump and the
 * node counts as up through it, as a node that really stayed online would.
 */
import http from 'node:http';
import { WebSocket, WebSocketServer } from 'ws';

export async function startClockRelay(target: string) {
  const wss = new WebSocketServer({ noServer: true });
  const sockets = new Set<WebSocket>();
  let pingWaiters: (() => void)[] = [];

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
    const upstream = new WebSocket(target.replace(/^http/, 'ws') + (req.url ?? '/'), {
      headers: { authorization: req.headers.authorization ?? '' },
    });
    upstream.once('unexpected-response', (_r, res) =>
      socket.end(`HTTP/1.1 ${res.statusCode ?? 502} Refused\r\nConnection: close\r\n\r\n`),
    );
    upstream.once('error', () => socket.destroy());
    upstream.once('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        sockets.add(client).add(upstream);
        upstream.on('message', (data: Buffer) => client.send(data.toString()));
        client.on('message', (data: Buffer) => upstream.send(data.toString()));
        // ws answers the ping itself; the server has the pong a moment later.
        upstream.on('ping', () => {
          const waiters = pingWaiters;
          pingWaiters = [];
          setTimeout(() => waiters.forEach((w) => w()), 200);
        });
        const end = () => {
          sockets.delete(client);
          sockets.delete(upstream);
          client.terminate();
          upstream.terminate();
        };
        client.on('close', end);
        upstream.on('close', end);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    url: `http://127.0.0.1:${port}`,
    /** Resolves shortly after the server's next ping has been answered (at most ~15 s). */
    afterPing: () => new Promise<void>((resolve) => pingWaiters.push(resolve)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
