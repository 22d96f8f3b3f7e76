/**
 * Commands to a node wherever its session is. On this replica they go to the hub; on another,
 * the command (already stored by the route) is announced over the bus to the replica that holds
 * the node, which runs it, stores the result and announces that; this replica then reads the
 * result row. A replica that dies meanwhile leaves the command to time out, as a silent node does.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { CommandName } from '../../protocol/control.js';
import type { MessageBus } from '../core/message-bus.js';
import type { CommandRepository } from '../control/command-repository.js';
import type { ControlHub } from '../control/hub.js';
import type { CommandOutcome } from '../control/pending-commands.js';
import { parseBusMessage } from './bus-messages.js';
import type { SessionDirectory } from './session-directory.js';

/** Time for the bus and the other replica's database writes on top of the node's own timeout. */
const RELAY_MARGIN_MS = 5_000;

export interface FleetCommandsDeps {
  hub: Pick<ControlHub, 'isConnected' | 'runCommand'>;
  directory: Pick<SessionDirectory, 'elsewhere'>;
  repos: { commands: CommandRepository };
  bus: MessageBus;
  replicaId: string;
  now: () => number;
  log: FastifyBaseLogger;
}

export class FleetCommands {
  private readonly waiting = new Map<string, () => void>();
  private readonly unsubscribe: (() => void)[];

  constructor(private readonly deps: FleetCommandsDeps) {
    this.unsubscribe = [
      deps.bus.subscribe('command_result', (payload) => {
        const message = parseBusMessage('command_result', payload);
        if (message) this.waiting.get(message.commandId)?.();
      }),
      deps.bus.subscribe('node_command', (payload) => {
        const message = parseBusMessage('node_command', payload);
        if (message?.replicaId !== deps.replicaId) return;
        void this.runHere(message.commandId, message.nodeId, message.name, message.timeoutMs).catch(
          (error: unknown) =>
            deps.log.error({ err: error, nodeId: message.nodeId }, 'a relayed command failed'),
        );
      }),
    ];
  }

  /** Whether the node holds a live session on any replica. */
  async isConnected(nodeId: string): Promise<boolean> {
    return this.deps.hub.isConnected(nodeId) || (await this.deps.directory.elsewhere(nodeId)) !== null;
  }

  async runCommand(
    nodeId: string,
    id: string,
    name: CommandName,
    args: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<CommandOutcome> {
    if (this.deps.hub.isConnected(nodeId)) return this.deps.hub.runCommand(nodeId, id, name, args, timeoutMs);
    const holder = await this.deps.directory.elsewhere(nodeId);
    if (!holder) return { ok: false, error: 'The node is offline.' };
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs + RELAY_MARGIN_MS);
      this.waiting.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      const message = { replicaId: holder.replicaId, nodeId, commandId: id, name, timeoutMs };
      await this.deps.bus.publish('node_command', JSON.stringify(message));
      await done;
    } finally {
      this.waiting.delete(id);
    }
    const run = await this.deps.repos.commands.get(id);
    if (run?.finishedAt == null || run.ok === null)
      return { ok: false, error: `The node did not answer within ${Math.round(timeoutMs / 1000)} s.` };
    return {
      ok: run.ok,
      ...(run.output === null ? {} : { output: run.output }),
      ...(run.error === null ? {} : { error: run.error }),
    };
  }

  /** Another replica asked: run the stored command on this replica's node and store its result. */
  private async runHere(id: string, nodeId: string, name: CommandName, timeoutMs: number): Promise<void> {
    const stored = await this.deps.repos.commands.get(id);
    if (!stored || stored.nodeId !== nodeId || stored.name !== name || stored.finishedAt !== null) return;
    const outcome = this.deps.hub.isConnected(nodeId)
      ? await this.deps.hub.runCommand(nodeId, id, name, stored.args, timeoutMs)
      : { ok: false, error: 'The node disconnected before the command reached it.' };
    await this.deps.repos.commands.finish(
      id,
      this.deps.now(),
      outcome.ok,
      outcome.output ?? null,
      outcome.error ?? null,
    );
    await this.deps.bus.publish('command_result', JSON.stringify({ commandId: id }));
  }

  close(): void {
    for (const off of this.unsubscribe) off();
    for (const wake of this.waiting.values()) wake();
  }
}
