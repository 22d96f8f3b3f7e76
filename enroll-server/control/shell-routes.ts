/**
 * `GET /v1/nodes/:id/shell` (ops' remote terminal, a WebSocket), the list of a node's shell
 * sessions and the download of each session's recording.
 */
import { createReadStream, existsSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import type {} from '@fastify/websocket';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import type { ActivityLog } from '../core/activity-log.js';
import { type Principal, actorOf, principalOf } from '../core/auth.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../core/errors.js';
import type { App } from '../core/http.js';
import {
  IdParams,
  IsoTime,
  NullableIsoTime,
  Paging,
  errors,
  fileAnswer,
  iso,
  isoOrNull,
  switchingProtocols,
} from '../core/schemas.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { ShellSessionRecord, ShellSessionRepository } from './command-repository.js';
import { type ShellRelayDeps, openShellSession } from './shell-relay.js';

/** Shells of nodes whose session another server replica holds (`replicas/` implements it). */
export interface RemoteShells {
  /** The node's session on another replica, or null when none holds it. */
  find(nodeId: string): Promise<{ shellEnabled: boolean; reachable: boolean } | null>;
  /** Relays the operator's terminal to that replica, which opens and records the shell. */
  open(socket: WebSocket, nodeId: string, principal: Principal, cols: number, rows: number): void;
}

export interface ShellRouteDeps extends ShellRelayDeps {
  repos: ShellRelayDeps['repos'] & {
    nodes: NodeRepository;
    shellSessions: ShellSessionRepository;
    activity: ActivityLog;
  };
  remote?: RemoteShells;
}

const shellDisabled = (id: string) =>
  new ForbiddenError(`Remote shells are disabled on node ${id} by its configuration.`, {
    details: { reason: 'SHELL_DISABLED' },
  });

const ShellSessionSchema = Type.Object({
  id: Type.String(),
  /** The API token (id) of the operator who opened it. */
  openedBy: Type.String(),
  openedAt: IsoTime,
  closedAt: NullableIsoTime,
  closeReason: Type.Union([Type.String(), Type.Null()]),
  /** Terminal output from the machine, in bytes. */
  bytesOut: Type.Integer(),
  /** Size of the recording, and whether it stopped at its cap (0 while the session is open). */
  recordedBytes: Type.Integer(),
  recordingTruncated: Type.Boolean(),
  /** Where ops download the recording (asciicast v2). */
  recordingUrl: Type.String(),
});

const shellSessionView = (s: ShellSessionRecord) => ({
  id: s.id,
  openedBy: s.openedBy,
  openedAt: iso(s.openedAt),
  closedAt: isoOrNull(s.closedAt),
  closeReason: s.closeReason,
  bytesOut: s.bytesOut,
  recordedBytes: s.recordedBytes,
  recordingTruncated: s.recordingTruncated,
  recordingUrl: `/v1/nodes/${s.nodeId}/shell-sessions/${s.id}/recording`,
});

export function shellRoutes(app: App, ctx: ShellRouteDeps): void {
  const { hub, repos } = ctx;

  app.get(
    '/v1/nodes/:id/shell',
    {
      websocket: true,
      schema: {
        operationId: 'openShell',
        tags: ['nodes'],
        summary: 'An interactive remote shell on a node (WebSocket)',
        description:
          'Upgrade to a WebSocket (ops and admins; a dashboard session cookie only from our own origin). Binary or text frames from the browser are keystrokes; text frames `{ "type": "resize", "cols", "rows" }` resize the terminal; the server sends the terminal\'s output. The node must be online with remote shells on (409 `NODE_OFFLINE`, 403 `SHELL_DISABLED`). Every session is recorded (asciicast v2).',
        params: IdParams,
        querystring: Type.Object({
          cols: Type.Optional(Type.Integer({ minimum: 10, maximum: 500 })),
          rows: Type.Optional(Type.Integer({ minimum: 5, maximum: 200 })),
        }),
        response: {
          101: switchingProtocols('Switching Protocols: the shell is open'),
          ...errors(404, 409),
        },
      },
      config: { auth: ['admin', 'ops'] },
      preValidation: async (request) => {
        const { id } = request.params;
        if (!(await repos.nodes.get(id))) throw new NotFoundError(`Node ${id} not found.`);
        if (hub.isConnected(id)) {
          if (!hub.shellEnabled(id)) throw shellDisabled(id);
          return;
        }
        const remote = await ctx.remote?.find(id);
        if (!remote)
          throw new ConflictError(`Node ${id} is offline.`, { details: { reason: 'NODE_OFFLINE' } });
        if (!remote.shellEnabled) throw shellDisabled(id);
        if (!remote.reachable)
          throw new ConflictError(
            `Node ${id} is connected to another server replica, which this one cannot reach. Set HOMENODE_REPLICA_URL and HOMENODE_REPLICA_SECRET on every replica, or open the shell through that replica.`,
            { details: { reason: 'REPLICA_UNREACHABLE' } },
          );
        request.remoteShell = true;
      },
    },
    (socket: WebSocket, request) => {
      const { id } = request.params;
      const query = request.query;
      if (request.remoteShell && ctx.remote)
        ctx.remote.open(socket, id, principalOf(request), query.cols ?? 80, query.rows ?? 24);
      else openShellSession(ctx, socket, id, principalOf(request), query.cols ?? 80, query.rows ?? 24);
    },
  );

  const SessionParams = Type.Object({
    id: IdParams.properties.id,
    sessionId: Type.String({ pattern: '^sh_[A-Za-z0-9_-]{1,32}$' }),
  });
  const recordingsDir = resolve(ctx.dataDir, 'recordings');

  app.get(
    '/v1/nodes/:id/shell-sessions',
    {
      schema: {
        operationId: 'listShellSessions',
        tags: ['nodes'],
        summary: "A node's remote shell sessions, newest first, with their recordings",
        params: IdParams,
        querystring: Type.Object(Paging),
        response: {
          200: Type.Object({ sessions: Type.Array(ShellSessionSchema) }),
          ...errors(400, 401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await repos.nodes.get(id))) throw new NotFoundError(`Node ${id} not found.`);
      const { limit = 100, offset = 0 } = request.query;
      return { sessions: (await repos.shellSessions.forNode(id, limit, offset)).map(shellSessionView) };
    },
  );

  app.get(
    '/v1/nodes/:id/shell-sessions/:sessionId/recording',
    {
      schema: {
        operationId: 'downloadShellRecording',
        tags: ['nodes'],
        summary: 'Download the recording of a shell session (asciicast v2)',
        params: SessionParams,
        description:
          'application/x-asciicast: a JSON header line, then one `[seconds, "o"|"i"|"r", data]` event per line.',
        response: {
          // The answer is the recording file itself (a stream).
          200: fileAnswer('application/x-asciicast', 'The recording (asciicast v2)'),
          ...errors(400, 401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request, reply) => {
      const { id, sessionId } = request.params;
      const session = await repos.shellSessions.get(sessionId);
      const path = session ? resolve(session.recordingPath) : '';
      // Only a file under the recordings folder is ever served, whatever the row says.
      if (!session || session.nodeId !== id || !path.startsWith(recordingsDir + sep) || !existsSync(path))
        throw new NotFoundError(`No recording of shell session ${sessionId} on node ${id}.`);
      await repos.activity.record(
        ctx.now(),
        actorOf(principalOf(request)),
        'shell.recording_downloaded',
        { type: 'node', id },
        { sessionId },
      );
      return reply
        .type('application/x-asciicast')
        .header('content-disposition', `attachment; filename="${sessionId}.cast"`)
        .header('cache-control', 'no-store')
        .send(createReadStream(path));
    },
  );
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The node's shell is on another replica: the upgrade is relayed there. */
    remoteShell?: boolean;
  }
}
