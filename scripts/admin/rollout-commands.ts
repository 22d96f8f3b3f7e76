/** Operator CLI: staged rollouts of agent releases (docs/updates.md). */
import { type Command, type Row, id, int, query, str } from './command.js';
import { record, table } from './format.js';

/** `1:60,20:240,100:0` → stages of percent and soak minutes. */
export function parseStages(text: string): { percent: number; soakMinutes: number }[] {
  return text.split(',').map((part) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*%?\s*:\s*(\d+)\s*$/.exec(part);
    if (!match)
      throw new Error(
        `--stages "${text}": each stage is PERCENT:SOAK_MINUTES, separated by commas (e.g. 1:60,20:240,100:0).`,
      );
    return { percent: Number(match[1]), soakMinutes: Number(match[2]) };
  });
}

const summary = (r: Row) =>
  record({
    id: r.id,
    version: r.version,
    state: r.state,
    stage: `${String(r.stage)} of ${Array.isArray(r.stages) ? r.stages.length : '?'}`,
    reason: r.reason ?? '',
  });

const action = (verb: 'pause' | 'resume' | 'abort', text: string): Command => ({
  name: `rollouts ${verb}`,
  summary: text,
  args: ['ID'],
  run: (ctx) => ctx.api.request('POST', `/v1/rollouts/${id(ctx)}/${verb}`),
  render: summary,
});

export const ROLLOUT_COMMANDS: Command[] = [
  {
    name: 'rollouts create',
    summary: 'Roll an uploaded agent release out in stages (percent of nodes : soak minutes)',
    options: {
      version: { type: 'string', description: 'the homenode-agent version to roll out', required: true },
      stages: { type: 'string', description: 'e.g. 1:60,20:240,100:0 (default 100:0)' },
      'max-failures': { type: 'string', description: 'pause once this many nodes failed (default 1)' },
    },
    run: ({ api, options }) =>
      api.request('POST', '/v1/rollouts', {
        artifact: 'homenode-agent',
        version: str(options.version),
        stages: parseStages(str(options.stages) ?? '100:0'),
        maxFailures: int('max-failures', options['max-failures']) ?? 1,
      }),
    render: (r: Row) => `Rollout ${String(r.id)} started.\n${summary(r)}`,
  },
  {
    name: 'rollouts list',
    summary: 'List rollouts, newest first',
    options: { limit: { type: 'string', description: 'at most this many (default 100)' } },
    run: ({ api, options }) =>
      api.request('GET', `/v1/rollouts${query({ limit: int('limit', options.limit) })}`),
    render: (r: { rollouts: Row[] }) =>
      table(r.rollouts, ['id', 'version', 'state', 'stage', 'maxFailures', 'createdAt', 'reason']),
  },
  {
    name: 'rollouts show',
    summary: "A rollout and each offered node's state (with why it failed or rolled back)",
    args: ['ID'],
    run: (ctx) => ctx.api.request('GET', `/v1/rollouts/${id(ctx)}`),
    render: (r: Row & { nodes: Row[]; counts: Record<string, number> }) =>
      `${summary(r)}\n${record(r.counts)}\n\n${table(r.nodes, ['nodeId', 'state', 'updatedAt', 'error'])}`,
  },
  action('pause', 'Pause a rollout: no further node is offered the release'),
  action('resume', 'Resume a paused rollout'),
  action('abort', 'Abort a rollout for good (nodes already updated keep the release)'),
];
