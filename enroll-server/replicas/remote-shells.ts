/**
 * An operator's terminal for a node whose session another replica holds: this replica relays the
 * terminal's frames over an internal WebSocket to that replica (`/internal/v1/nodes/:id/shell`,
 * authenticated with a short-lived replica token), which opens, limits and records the shell as
 * if the operator had connected there.
 */
import type { FastifyBaseLogger } from 'fastify';
import WebSocket from 'ws';
import type { Principal } from '../core/auth.js';
import type { RemoteShells } from '../control/shell-routes.js';
import type { ReplicaRepository } from './replica-repository.js';
import { signShellGrant } from './replica-token.js';
import type { SessionDirectory } from './session-directory.js';

export interface RemoteShellDeps {
  directory: Pick<SessionDirectory, 'elsewhere'>;
  repos: { replicas: ReplicaRepository };
  replicaId: string;
  /** Without the shared secret this replica cannot reach the others. */
  secret: string | undefined;
  now: () => number;
  log: FastifyBaseLogger;
}

const endFrame = (reason: string) => JSON.stringify({ type: 'end', reason });

const isReady = (frame: string): boolean => {
  try {
    return (JSON.parse(frame) as { type?: unknown }).type === 'ready';
  } catch {
    return false;
  }
};

/** A frame's text (both sides speak JSON text frames). */
const text = (data: WebSocket.RawData): string =>
  Buffer.isBuffer(data)
    ? data.toString('utf8')
    : Array.isArray(data)
      ? Buffer.concat(data).toString('utf8')
      : Buffer.from(data).toString('utf8');

export function createRemoteShells(deps: RemoteShellDeps): RemoteShells {
  const target = async (nodeId: string) => {
    const session = await deps.directory.elsewhere(nodeId);
    if (!session) return null;
    const replica = await deps.repos.replicas.get(session.replicaId);
    return { session, url: replica?.url ?? null };
  };
  return {
    async find(nodeId) {
      const found = await target(nodeId);
      if (!found) return null;
      return {
        shellEnabled: found.session.shellEnabled,
        reachable: found.url !== null && deps.secret !== undefined,
      };
    },
    open(socket, nodeId, principal, cols, rows) {
      const early: WebSocket.RawData[] = [];
      const onEarly = (data: WebSocket.RawData) => early.push(data);
      socket.on('message', onEarly);
      void relay(deps, target, socket, nodeId, principal, cols, rows, early, onEarly).catch(
        (error: unknown) => {
          deps.log.error({ err: error, nodeId }, 'remote shell relay failed');
          if (socket.readyState === socket.OPEN) {
            socket.send(
              endFrame(
                'The shell could not be reached on the server replica that holds this node. Try again.',
              ),
            );
            socket.close(1011, 'relay failed');
          }
        },
      );
    },
  };
}

async function relay(
  deps: RemoteShellDeps,
  target: (nodeId: string) => Promise<{ session: { replicaId: string }; url: string | null } | null>,
  socket: WebSocket,
  nodeId: string,
  principal: Principal,
  cols: number,
  rows: number,
  queued: WebSocket.RawData[],
  onEarly: (data: WebSocket.RawData) => void,
): Promise<void> {
  const found = await target(nodeId);
  if (!found?.url || !deps.secret) {
    socket.send(endFrame('The node left the server replica that held it. Open the shell again.'));
    socket.close(1011, 'node moved');
    return;
  }
  const token = await signShellGrant(
    deps.secret,
    { from: deps.replicaId, to: found.session.replicaId, nodeId, principal },
    deps.now(),
  );
  const url = new URL(`/internal/v1/nodes/${encodeURIComponent(nodeId)}/shell`, found.url);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.search = new URLSearchParams({ cols: String(cols), rows: String(rows) }).toString();
  const upstream = new WebSocket(url, {
    headers: { authorization: `Bearer ${token}` },
    handshakeTimeout: 10_000,
  });
  upstream.on('unexpected-response', (_request, response) => {
    socket.send(
      endFrame(
        `The server replica that holds this node refused the shell (HTTP ${response.statusCode}). Try again.`,
      ),
    );
    socket.close(1011, 'refused');
    upstream.terminate();
  });
  upstream.on('error', (error) => {
    deps.log.warn({ err: error, nodeId }, 'remote shell connection failed');
    if (socket.readyState === socket.OPEN) {
      socket.send(endFrame('The connection to the server replica that holds this node failed.'));
      socket.close(1011, 'relay failed');
    }
  });
  // The operator's first keystrokes wait until the other replica has opened the shell ("ready").
  let ready = false;
  upstream.on('message', (data) => {
    const frame = text(data);
    if (socket.readyState === socket.OPEN) socket.send(frame);
    if (ready || !isReady(frame)) return;
    ready = true;
    socket.off('message', onEarly);
    for (const early of queued.splice(0)) upstream.send(text(early));
    socket.on('message', (next) => upstream.readyState === upstream.OPEN && upstream.send(text(next)));
  });
  upstream.on('close', (code, reason) => {
    if (socket.readyState === socket.OPEN) socket.close(code === 1005 ? 1000 : code, reason.toString());
  });
  socket.on('close', () => {
    if (upstream.readyState === upstream.OPEN || upstream.readyState === upstream.CONNECTING)
      upstream.close(1000);
  });
}
