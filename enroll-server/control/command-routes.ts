/**
 * `/v1/control` (nodes), `/v1/nodes/:id/shell` (ops' remote terminal), node commands and the
 * WireGuard peer list. WebSocket routes authenticate before the upgrade, so a refused client gets
 * an HTTP status and an error body it can show.
 */
import { join } from 'node:path';
import type {} from '@fastify/websocket';
import { Type } from 'typebox';
import type { WebSocket } from 'ws';
import { CommandNameSchema, type CommandName } from '../../protocol/control.js';
import { newShellSessionId } from './hub.js';
import { overlayAddress } from './join.js';
import { NodeAuthError, ReplayCache, verifyNodeToken } from './node-token.js';
import { ShellRecorder } from './shell-recorder.js';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NodeRevokedError,
  NotFoundError,
  UnauthenticatedError,
} from '../core/errors.js';
import { newId } from '../core/ids.js';
import { actorOf, principalOf } from '../core/auth.js';
import type { App, AppContext } from '../core/http.js';
import { IdParams, IsoTime, NullableIsoTime, errors } from '../core/schemas.js';
import { iso, isoOrNull } from '../core/views.js';

class NodeRejectedError extends AppError {
  override readonly code = 'NODE_REJECTED';
  override readonly status = 403;
}

const COMMAND_TIMEOUT_MS: Record<CommandName, number> = {
  'run-preflight': 60_000,
  'collect-diagnostics': 120_000,
  'restart-agent': 30_000,
  reboot: 30_000,
  'leave-cluster': 120_000,
  cordon: 60_000,
  uncordon: 60_000,
  drain: 300_000,
};

const CommandResultSchema = Type.Object({
  id: Type.String(),
  type: Type.String(),
  ok: Type.Union([Type.Boolean(), Type.Null()]),
  output: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  requestedAt: IsoTime,
  finishedAt: NullableIsoTime,
});

export function controlRoutes(app: App, ctx: AppContext): void {
  const replay = new ReplayCache(ctx.now);
  const { hub, repos } = ctx;

  app.get(
    '/v1/control',
    {
      websocket: true,
      schema: { hide: true },
      config: { auth: 'public' },
      preValidation: async (request) => {
        const header = request.headers.authorization ?? '';
        const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
        try {
          const { nodeId } = await verifyNodeToken(token, (id) => repos.nodes.get(id)?.publicKey, replay, {
            now: ctx.now,
            maxSkewSeconds: ctx.config.policy.maxClockSkewSeconds,
          });
          const node = repos.nodes.get(nodeId);
          if (node?.status === 'revoked') {
            throw new NodeRevokedError(
              `This machine was removed by the operations team: ${node.statusReason ?? 'no reason given'}.`,
            );
          }
          if (node?.status === 'rejected') {
            throw new NodeRejectedError(
              `This machine was not approved: ${node.statusReason ?? 'no reason given'}.`,
            );
          }
          request.controlNodeId = nodeId;
        } catch (error) {
          const code =
            error instanceof NodeAuthError
              ? error.code
              : error instanceof AppError
                ? error.code
                : 'AUTH_FAILED';
          ctx.metrics.controlAuthFailures.inc({ code });
          if (error instanceof NodeAuthError)
            throw new UnauthenticatedError(error.message, { details: { reason: error.code } });
          throw error;
        }
      },
    },
    (socket: WebSocket, request) => {
      if (request.controlNodeId) hub.attach(request.controlNodeId, socket);
      else socket.close(4401, 'unauthenticated');
    },
  );

  app.post(
    '/v1/nodes/:id/commands',
    {
      schema: {
        tags: ['nodes'],
        summary: 'Send a command to a node over its control channel and return its result',
        params: IdParams,
        body: Type.Object(
          { type: CommandNameSchema, args: Type.Optional(Type.Record(Type.String(), Type.Unknown())) },
          { additionalProperties: false },
        ),
        response: { 200: CommandResultSchema, ...errors(400, 401, 403, 404, 409) },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request) => {
      const principal = principalOf(request);
      const node = repos.nodes.get(request.params.id);
      if (!node) throw new NotFoundError(`Node ${request.params.id} not found.`);
      if (!hub.isConnected(node.id))
        throw new ConflictError(`Node ${node.id} is offline; commands need a live control channel.`, {
          details: { reason: 'NODE_OFFLINE' },
        });
      const { type, args = {} } = request.body;
      const id = newId('cmd');
      const requestedAt = ctx.now();
      repos.transaction(() => {
        repos.commands.create({
          id,
          nodeId: node.id,
          name: type,
          args,
          requestedBy: principal.tokenId,
          requestedAt,
        });
        repos.audit.record(
          requestedAt,
          actorOf(principal),
          'node.command',
          { type: 'node', id: node.id },
          { command: type, commandId: id },
        );
      });
      const outcome = await hub.runCommand(node.id, id, type, args, COMMAND_TIMEOUT_MS[type]);
      const finishedAt = ctx.now();
      repos.commands.finish(id, finishedAt, outcome.ok, outcome.output ?? null, outcome.error ?? null);
      return {
        id,
        type,
        ok: outcome.ok,
        output: outcome.output ?? null,
        error: outcome.error ?? null,
        requestedAt: iso(requestedAt),
        finishedAt: iso(finishedAt),
      };
    },
  );

  app.get(
    '/v1/nodes/:id/commands',
    {
      schema: {
        tags: ['nodes'],
        summary: "A node's recent commands and results",
        params: IdParams,
        response: {
          200: Type.Object({ commands: Type.Array(CommandResultSchema) }),
          ...errors(401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request) => {
      if (!repos.nodes.get(request.params.id))
        throw new NotFoundError(`Node ${request.params.id} not found.`);
      return {
        commands: repos.commands.forNode(request.params.id, 100).map((c) => ({
          id: c.id,
          type: c.name,
          ok: c.ok,
          output: c.output,
          error: c.error,
          requestedAt: iso(c.requestedAt),
          finishedAt: isoOrNull(c.finishedAt),
        })),
      };
    },
  );

  app.get(
    '/v1/nodes/:id/commands/:commandId/output',
    {
      schema: {
        tags: ['nodes'],
        summary: "Download a command's output (e.g. a diagnostics bundle) as text",
        params: Type.Object({ id: Type.String(), commandId: Type.String() }),
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request, reply) => {
      const run = repos.commands.get(request.params.commandId);
      if (!run || run.nodeId !== request.params.id) throw new NotFoundError('Command not found.');
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${run.nodeId}-${run.name}-${run.id}.txt"`)
        .send(run.output ?? run.error ?? '');
    },
  );

  app.get(
    '/v1/nodes/:id/shell',
    {
      websocket: true,
      schema: {
        hide: true,
        params: IdParams,
        querystring: Type.Object({
          cols: Type.Optional(Type.Integer({ minimum: 10, maximum: 500 })),
          rows: Type.Optional(Type.Integer({ minimum: 5, maximum: 200 })),
        }),
      },
      config: { auth: ['admin', 'ops'] },
      preValidation: async (request) => {
        const { id } = request.params;
        if (!repos.nodes.get(id)) throw new NotFoundError(`Node ${id} not found.`);
        if (!hub.isConnected(id))
          throw new ConflictError(`Node ${id} is offline.`, { details: { reason: 'NODE_OFFLINE' } });
        if (!hub.shellEnabled(id))
          throw new ForbiddenError(`Remote shells are disabled on node ${id} by its configuration.`, {
            details: { reason: 'SHELL_DISABLED' },
          });
      },
    },
    (socket: WebSocket, request) => {
      const { id } = request.params;
      const query = request.query;
      openShellSession(ctx, socket, id, principalOf(request), query.cols ?? 80, query.rows ?? 24);
    },
  );

  app.get(
    '/v1/nodes/:id/shell-sessions',
    {
      schema: {
        tags: ['nodes'],
        summary: "A node's remote shell sessions",
        params: IdParams,
        response: {
          200: Type.Object({
            sessions: Type.Array(
              Type.Object({
                id: Type.String(),
                openedBy: Type.String(),
                openedAt: IsoTime,
                closedAt: NullableIsoTime,
                closeReason: Type.Union([Type.String(), Type.Null()]),
                bytesOut: Type.Integer(),
              }),
            ),
          }),
          ...errors(401, 403, 404),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request) => ({
      sessions: repos.shellSessions
        .forNode(request.params.id)
        .map((s) => ({ ...s, openedAt: iso(s.openedAt), closedAt: isoOrNull(s.closedAt) })),
    }),
  );

  app.get(
    '/v1/wireguard/peers',
    {
      schema: {
        tags: ['network'],
        summary: "The overlay hub's WireGuard peers (nodes that joined)",
        response: {
          200: Type.Object({
            peers: Type.Array(
              Type.Object({
                nodeId: Type.String(),
                status: Type.String(),
                publicKey: Type.String(),
                allowedIps: Type.String(),
              }),
            ),
          }),
          ...errors(401, 403),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async () => ({
      peers: repos.network
        .peers()
        .filter((p) => p.wireguardPublicKey && (p.status === 'active' || p.status === 'approved'))
        .map((p) => ({
          nodeId: p.nodeId,
          status: p.status,
          publicKey: p.wireguardPublicKey ?? '',
          allowedIps: `${overlayAddress(ctx.config.cluster.overlayCidr, p.overlayIndex)}/32`,
        })),
    }),
  );
}

type ClientFrame =
  { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number } | { type: 'close' };

function parseClientFrame(text: string): ClientFrame | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v.type === 'input' && typeof v.data === 'string' && v.data.length <= 16_384)
      return { type: 'input', data: v.data };
    if (v.type === 'resize' && Number.isInteger(v.cols) && Number.isInteger(v.rows)) {
      return {
        type: 'resize',
        cols: Math.min(500, Math.max(10, Number(v.cols))),
        rows: Math.min(200, Math.max(5, Number(v.rows))),
      };
    }
    if (v.type === 'close') return { type: 'close' };
  } catch {
    // fall through
  }
  return undefined;
}

/** Relay one ops terminal to the node's shell, recording it, with idle and duration limits. */
function openShellSession(
  ctx: AppContext,
  socket: WebSocket,
  nodeId: string,
  principal: ReturnType<typeof principalOf>,
  cols: number,
  rows: number,
): void {
  const { hub, repos, now, config } = ctx;
  const sessionId = newShellSessionId();
  const openedAt = now();
  const recordingPath = join(config.dataDir, 'recordings', nodeId, `${sessionId}.cast`);
  const recorder = new ShellRecorder(
    recordingPath,
    { cols, rows, startedAt: openedAt, title: `${nodeId} by ${principal.tokenId}` },
    now,
  );
  repos.transaction(() => {
    repos.shellSessions.open({ id: sessionId, nodeId, openedBy: principal.tokenId, openedAt, recordingPath });
    repos.audit.record(
      openedAt,
      actorOf(principal),
      'shell.opened',
      { type: 'node', id: nodeId },
      { sessionId, recordingPath },
    );
  });
  let ended = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const send = (frame: unknown) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));
  const end = (reason: string, exitCode?: number, fromNode = false) => {
    if (ended) return;
    ended = true;
    clearTimeout(idleTimer);
    clearTimeout(maxTimer);
    if (!fromNode) hub.shellClose(nodeId, sessionId, reason);
    recorder.close();
    const at = now();
    repos.transaction(() => {
      repos.shellSessions.close(sessionId, at, reason, recorder.bytesOut);
      repos.audit.record(
        at,
        actorOf(principal),
        'shell.closed',
        { type: 'node', id: nodeId },
        { sessionId, reason, seconds: Math.round((at - openedAt) / 1000), bytesOut: recorder.bytesOut },
      );
    });
    send({ type: 'end', reason, ...(exitCode === undefined ? {} : { exitCode }) });
    socket.close(1000, 'shell ended');
  };
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () => end(`Closed after ${Math.round(config.shell.idleTimeoutMs / 60_000)} minutes without activity.`),
      config.shell.idleTimeoutMs,
    );
  };
  const maxTimer = setTimeout(
    () =>
      end(
        `Closed: a shell session may last at most ${Math.round(config.shell.maxDurationMs / 60_000)} minutes.`,
      ),
    config.shell.maxDurationMs,
  );
  touch();

  const opened = hub.openShell(nodeId, sessionId, cols, rows, {
    data(base64) {
      const bytes = Buffer.from(base64, 'base64');
      recorder.output(bytes);
      touch();
      send({ type: 'output', data: base64 });
    },
    closed(reason, exitCode) {
      end(reason, exitCode, true);
    },
  });
  if (!opened) return end('The node went offline or disabled remote shells.', undefined, true);
  send({ type: 'ready', sessionId });
  socket.on('message', (data: Buffer) => {
    const frame = parseClientFrame(data.toString());
    if (!frame)
      return send({
        type: 'error',
        message: 'Send {"type":"input","data":…}, {"type":"resize","cols":…,"rows":…} or {"type":"close"}.',
      });
    touch();
    if (frame.type === 'input') {
      recorder.input(frame.data);
      hub.shellInput(nodeId, sessionId, Buffer.from(frame.data, 'utf8').toString('base64'));
    } else if (frame.type === 'resize') {
      recorder.resize(frame.cols, frame.rows);
      hub.shellResize(nodeId, sessionId, frame.cols, frame.rows);
    } else {
      end('Closed by the operator.');
    }
  });
  socket.on('close', () => end('The operator disconnected.'));
}

declare module 'fastify' {
  interface FastifyRequest {
    controlNodeId?: string;
  }
}
