import { Type, type Static } from 'typebox';
import { joinField } from '../../protocol/join-fields.js';
import { UpdateStateSchema } from '../../protocol/update.js';
import { IsoTime, iso } from '../core/schemas.js';
import type { RolloutNodeRecord, RolloutRecord } from './rollout-repository.js';
import { MAX_STAGES } from './rollout-rules.js';

export const RolloutStageSchema = Type.Object(
  {
    percent: Type.Number({ exclusiveMinimum: 0, maximum: 100, description: 'share of eligible nodes' }),
    soakMinutes: Type.Integer({ minimum: 0, maximum: 10_080, description: 'wait before the next stage' }),
  },
  { additionalProperties: false },
);

export const CreateRolloutSchema = Type.Object(
  {
    artifact: joinField('artifactName'),
    version: joinField('artifactVersion'),
    stages: Type.Array(RolloutStageSchema, { minItems: 1, maxItems: MAX_STAGES }),
    maxFailures: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
  },
  { additionalProperties: false },
);
export type CreateRolloutBody = Static<typeof CreateRolloutSchema>;

const NodeStateSchema = Type.Union([Type.Literal('offered'), UpdateStateSchema]);

export const RolloutSchema = Type.Object({
  id: Type.String(),
  artifact: Type.String(),
  version: Type.String(),
  stages: Type.Array(RolloutStageSchema),
  maxFailures: Type.Integer(),
  state: Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('aborted')]),
  /** 1-based, as people count stages. */
  stage: Type.Integer({ minimum: 1 }),
  stageStartedAt: IsoTime,
  reason: Type.Union([Type.String(), Type.Null()]),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  createdAt: IsoTime,
  updatedAt: IsoTime,
});

export const RolloutNodeSchema = Type.Object({
  nodeId: Type.String(),
  state: NodeStateSchema,
  error: Type.Union([Type.String(), Type.Null()]),
  updatedAt: IsoTime,
});

export const RolloutListSchema = Type.Object({ rollouts: Type.Array(RolloutSchema) });
export const RolloutDetailSchema = Type.Object({
  ...RolloutSchema.properties,
  counts: Type.Record(Type.String(), Type.Integer()),
  nodes: Type.Array(RolloutNodeSchema),
});

export const rolloutView = (r: RolloutRecord): Static<typeof RolloutSchema> => ({
  id: r.id,
  artifact: r.artifact,
  version: r.version,
  stages: r.stages,
  maxFailures: r.maxFailures,
  state: r.state,
  stage: r.stage + 1,
  stageStartedAt: iso(r.stageStartedAt),
  reason: r.reason,
  createdBy: r.createdBy,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

export const rolloutNodeView = (n: RolloutNodeRecord): Static<typeof RolloutNodeSchema> => ({
  nodeId: n.nodeId,
  state: n.state,
  error: n.error,
  updatedAt: iso(n.updatedAt),
});
