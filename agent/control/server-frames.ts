/**
 * Frames from the server, read so that an agent keeps working with a newer server: properties this
 * agent does not know (in a message, in the policy, in its audit part) are dropped before the
 * message is validated, while every field it does know must still match its schema exactly. OTA
 * updates depend on old agents talking to newer servers.
 */
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';
import { type ServerMessage, ServerMessageSchema } from '../../protocol/control.js';
import { type Policy, PolicySchema } from '../../protocol/policy.js';

const checkServerMessage = Compile(ServerMessageSchema);
const checkPolicy = Compile(PolicySchema);

/** The message in a parsed frame with unknown properties dropped, or undefined when it is not one. */
export function readServerMessage(value: unknown): ServerMessage | undefined {
  const known = Value.Clean(ServerMessageSchema, Value.Clone(value));
  return checkServerMessage.Check(known) ? known : undefined;
}

/** A policy as a (possibly newer) server sends it, with unknown properties dropped. */
export function readPolicy(value: unknown): Policy | undefined {
  const known = Value.Clean(PolicySchema, Value.Clone(value));
  return checkPolicy.Check(known) ? known : undefined;
}
