/**
 * `homenode-supervisor [--root DIR] [--node PATH] [-- agent args]`: the supervisor the ISO's
 * `homenode-agent.service` runs (docs/updates.md). It starts `<root>/current`'s agent with the
 * given arguments (default `run`), and rolls a new release back when it does not become healthy.
 * Environment: `HOMENODE_RELEASE_ROOT` (default /opt/homenode), `HOMENODE_UPDATE_MAX_STARTS`.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_RELEASE_ROOT, releaseLayout } from './release-layout.js';
import { Supervisor } from './supervisor.js';

const { values, positionals } = parseArgs({
  options: { root: { type: 'string' }, node: { type: 'string' } },
  allowPositionals: true,
});
const root = values.root ?? process.env.HOMENODE_RELEASE_ROOT ?? DEFAULT_RELEASE_ROOT;
const maxStarts = Number(process.env.HOMENODE_UPDATE_MAX_STARTS ?? 3);
const supervisor = new Supervisor({
  layout: releaseLayout(root),
  node: values.node ?? process.execPath,
  args: positionals.length ? positionals : ['run'],
  env: process.env,
  maxStarts: Number.isInteger(maxStarts) && maxStarts > 0 ? maxStarts : 3,
  ...(process.env.HOMENODE_SUPERVISOR_RESTART_MS
    ? { restartDelayMs: Number(process.env.HOMENODE_SUPERVISOR_RESTART_MS) }
    : {}),
  log: (line) => process.stderr.write(`homenode-supervisor: ${line}\n`),
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => supervisor.stop(signal));
supervisor.run().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `homenode-supervisor: stopped by an error: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    process.exit(1);
  },
);
