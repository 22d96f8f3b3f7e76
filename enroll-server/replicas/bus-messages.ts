/**
 * The messages replicas send each other over the bus, checked against their schemas on arrival
 * (they come from the database, which other programs may also reach).
 */
import { type Static, Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { CommandNameSchema } from '../../protocol/control.js';
import { NodeStatusSchema } from '../../protocol/api.js';

const Id = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_-]+$' });

export const NodeStatusMessage = Type.Object({
  origin: Id,
  nodeId: Id,
  status: NodeStatusSchema,
  reason: Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]),
});

/** Run this stored command on the node whose session `replicaId` holds. */
export const NodeCommandMessage = Type.Object({
  replicaId: Id,
  nodeId: Id,
  commandId: Id,
  name: CommandNameSchema,
  timeoutMs: Type.Integer({ minimum: 1, maximum: 3_600_000 }),
});

/** The command's result is stored. */
export const CommandResultMessage = Type.Object({ commandId: Id });

/** A newer session of this node opened on another replica: `replicaId` closes `sessionId`. */
export const SessionTakenMessage = Type.Object({ replicaId: Id, nodeId: Id, sessionId: Id, by: Id });

export type NodeStatusMessage = Static<typeof NodeStatusMessage>;
export type NodeCommandMessage = Static<typeof NodeCommandMessage>;
export type CommandResultMessage = Static<typeof CommandResultMessage>;
export type SessionTakenMessage = Static<typeof SessionTakenMessage>;

const checkers = {
  node_status: Compile(NodeStatusMessage),
  node_command: Compile(NodeCommandMessage),
  command_result: Compile(CommandResultMessage),
  session_taken: Compile(SessionTakenMessage),
};

interface Messages {
  node_status: NodeStatusMessage;
  node_command: NodeCommandMessage;
  command_result: CommandResultMessage;
  session_taken: SessionTakenMessage;
}

/** The message, or undefined when the payload is not one (it is then ignored and logged). */
export function parseBusMessage<C extends keyof Messages>(
  channel: C,
  payload: string,
): Messages[C] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(payload);
  } catch {
    return undefined;
  }
  const checker = checkers[channel];
  return checker.Check(value) ? (value as Messages[C]) : undefined;
}
