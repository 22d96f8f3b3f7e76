/** Commands to a node over its control channel (ops), their history and their output. */
import { Type } from 'typebox';
import { CommandNameSchema, type CommandName } from '../../protocol/control.js';
import type { ActivityLog } from '../core/activity-log.js';
import { actorOf, principalOf } from '../core/auth.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import type { App } from '../core/http.js';
import { newId } from '../core/ids.js';
import { IdParams, IsoTime, NullableIsoTime, errors, fileAnswer, iso, isoOrNull } from '../core/schemas.js';
import type { Transactional } from '../core/transactions.js';
import type { NodeRepository } from '../nodes/node-repository.js';
import type { CommandRepository } from './command-repository.js';
import type { ControlHub } from './hub.js';

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

export interface CommandRouteDeps {
  /** The hub, or what routes commands to whichever replica holds the node (replicas/). */
  hub: {
    isConnected(nodeId: string): boolean | Promise<boolean>;
    runCommand: ControlHub['runCommand'];
  };
  repos: Transactional<{ nodes: NodeRepository; commands: CommandRepository; activity: ActivityLog }>;
  now: () => number;
}

export function commandRoutes(app: App, ctx: CommandRouteDeps): void {
  const { hub, repos } = ctx;

  app.post(
    '/v1/nodes/:id/commands',
    {
      schema: {
        operationId: 'runCommand',
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
      const node = await repos.nodes.get(request.params.id);
      if (!node) throw new NotFoundError(`Node ${request.params.id} not found.`);
      if (!(await hub.isConnected(node.id)))
        throw new ConflictError(`Node ${node.id} is offline; commands need a live control channel.`, {
          details: { reason: 'NODE_OFFLINE' },
        });
      const { type, args = {} } = request.body;
      const id = newId('cmd');
      const requestedAt = ctx.now();
      await repos.transaction(async (tx) => {
        await tx.commands.create({
          id,
          nodeId: node.id,
          name: type,
          args,
          requestedBy: principal.tokenId,
          requestedAt,
        });
        await tx.activity.record(
          requestedAt,
          actorOf(principal),
          'node.command',
          { type: 'node', id: node.id },
          { command: type, commandId: id },
        );
      });
      const outcome = await hub.runCommand(node.id, id, type, args, COMMAND_TIMEOUT_MS[type]);
      const finishedAt = ctx.now();
      await repos.commands.finish(id, finishedAt, outcome.ok, outcome.output ?? null, outcome.error ?? null);
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
        operationId: 'listCommands',
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
      if (!(await repos.nodes.get(request.params.id)))
        throw new NotFoundError(`Node ${request.params.id} not found.`);
      const commands = await repos.commands.forNode(request.params.id, 100);
      return {
        commands: commands.map((c) => ({
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
        operationId: 'getCommandOutput',
        tags: ['nodes'],
        summary: "Download a command's output (e.g. a diagnostics bundle) as text",
        params: Type.Object({ id: Type.String(), commandId: Type.String() }),
        response: {
          200: fileAnswer('text/plain', "The command's output (or its error), as the node sent it"),
          ...errors(404),
        },
      },
      config: { auth: ['admin', 'ops'] },
    },
    async (request, reply) => {
      const run = await repos.commands.get(request.params.commandId);
      if (!run || run.nodeId !== request.params.id) throw new NotFoundError('Command not found.');
      return reply
        .type('text/plain; charset=utf-8')
        .header('content-disposition', `attachment; filename="${run.nodeId}-${run.name}-${run.id}.txt"`)
        .send(run.output ?? run.error ?? '');
    },
  );
}
