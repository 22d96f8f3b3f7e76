/** What the agent knows about this machine: the protocol's preflight facts plus agent-only notes. */
import { Type, type Static } from 'typebox';
import { PreflightFactsSchema } from '../../protocol/hardware.js';

export const ProbeNoteSchema = Type.Object({
  program: Type.String(),
  outcome: Type.Union([Type.Literal('missing'), Type.Literal('failed')]),
  message: Type.String(),
});
export type ProbeNote = Static<typeof ProbeNoteSchema>;

/** A saved `facts` object (what `preflight --json` prints under `facts`). */
export const AgentFactsSchema = Type.Intersect([
  PreflightFactsSchema,
  Type.Object({
    identifiers: Type.Optional(Type.Object({ boardUuid: Type.String({ maxLength: 128 }) })),
    notes: Type.Optional(Type.Array(ProbeNoteSchema, { maxItems: 32 })),
  }),
]);
export type AgentFacts = Static<typeof AgentFactsSchema>;
