/** `npm run bench -- <name> [--json]`: runs one benchmark; with --json the last line is one JSON object. */
import { parseArgs } from 'node:util';
import { benchAudits } from './bench/audits.js';
import { benchControl } from './bench/control.js';
import { benchEnroll } from './bench/enroll.js';
import { benchPayouts } from './bench/payouts.js';
import { benchStorm } from './bench/storm.js';
import { benchRollout } from './bench/rollout.js';
import { benchControlReplicas } from './bench/control-replicas.js';
import { benchStormReplicas } from './bench/storm-replicas.js';

const BENCHES: Record<
  string,
  {
    summary: string;
    run: (
      o: Record<string, string | boolean | undefined>,
      log: (l: string) => void,
    ) => Promise<Record<string, number>>;
  }
> = {
  enroll: {
    summary: 'enrollments per second and latency (options: --count N=2000, --concurrency C=16)',
    run: (o, log) =>
      benchEnroll({ count: Number(o.count ?? 2000), concurrency: Number(o.concurrency ?? 16), log }),
  },
  payouts: {
    summary:
      'compute and export a weekly statement for N nodes with churn and workloads (options: --nodes N=10000, --engine sqlite|postgres)',
    run: (o, log) =>
      benchPayouts({
        nodes: Number(o.nodes ?? 10_000),
        engine: o.engine === 'postgres' ? 'postgres' : 'sqlite',
        log,
      }),
  },
  storm: {
    summary:
      'restart the server under N connected agents and time the reconnect storm (options: --agents N=1000, --kill); with --replicas R --kill one: R replicas on PostgreSQL, one killed with SIGKILL',
    run: (o, log) =>
      o.replicas
        ? benchStormReplicas({ replicas: Number(o.replicas), agents: Number(o.agents ?? 1000), log })
        : benchStorm({ agents: Number(o.agents ?? 1000), kill: o.kill === true, log }),
  },
  rollout: {
    summary:
      'a staged rollout (10 %, 50 %, 100 %) of an agent release to N simulated nodes: time per stage and the server memory while it serves the downloads (options: --agents N=1000, --release-mib M=8)',
    run: (o, log) =>
      benchRollout({
        agents: Number(o.agents ?? 1000),
        releaseMiB: Number(o['release-mib'] ?? 8),
        log,
      }),
  },
  audits: {
    summary:
      'N simulated nodes join and are audited once under the fleet-wide cap (options: --agents N=1000, --cap C=policy, --audit-ms MS=500)',
    run: (o, log) =>
      benchAudits({
        agents: Number(o.agents ?? 1000),
        cap: o.cap === undefined ? undefined : Number(o.cap),
        auditMs: Number(o['audit-ms'] ?? 500),
        log,
      }),
  },
  control: {
    summary:
      'N simulated agents heartbeating every 15 s (options: --agents N=1000, --seconds S=45, --replicas R: R replicas on PostgreSQL, several simulator processes; --approved with --replicas: the nodes approved, so their uptime is written; --settle S=10 between connecting and measuring)',
    run: (o, log) =>
      o.replicas
        ? benchControlReplicas({
            replicas: Number(o.replicas),
            agents: Number(o.agents ?? 1000),
            seconds: Number(o.seconds ?? 45),
            approved: o.approved === true,
            settle: o.settle === undefined ? undefined : Number(o.settle),
            log,
          })
        : benchControl({ agents: Number(o.agents ?? 1000), seconds: Number(o.seconds ?? 45), log }),
  },
};

const { values, positionals } = parseArgs({
  args: process.argv.slice(2),
  options: {
    json: { type: 'boolean' },
    help: { type: 'boolean' },
    count: { type: 'string' },
    concurrency: { type: 'string' },
    agents: { type: 'string' },
    seconds: { type: 'string' },
    nodes: { type: 'string' },
    kill: { type: 'boolean' },
    approved: { type: 'boolean' },
    settle: { type: 'string' },
    replicas: { type: 'string' },
    engine: { type: 'string' },
    cap: { type: 'string' },
    'audit-ms': { type: 'string' },
    'release-mib': { type: 'string' },
  },
  allowPositionals: true,
});
const name = positionals[0];
const bench = name ? BENCHES[name] : undefined;
if (values.help || !bench) {
  const lines = [
    'Usage: npm run bench -- <name> [--json]',
    '',
    'Benchmarks:',
    ...Object.entries(BENCHES).map(([k, b]) => `  ${k.padEnd(10)} ${b.summary}`),
  ];
  (bench || values.help ? console.log : console.error)(lines.join('\n'));
  process.exit(values.help ? 0 : 2);
}
// `storm --replicas 3 --kill one`: the word after --kill names what is killed (one replica).
const extra = positionals.slice(1);
if (extra.length > 0 && !(name === 'storm' && values.kill && extra.length === 1 && extra[0] === 'one')) {
  console.error(
    `Unexpected ${extra.join(' ')}: only "storm --replicas R --kill one" takes a word after an option.`,
  );
  process.exit(2);
}
if (name === 'storm' && values.replicas && !values.kill) {
  console.error('storm --replicas R measures a killed replica: add --kill one.');
  process.exit(2);
}
if (values.engine !== undefined && !['sqlite', 'postgres'].includes(values.engine)) {
  console.error(`--engine must be sqlite or postgres, not "${values.engine}"`);
  process.exit(2);
}
for (const option of [
  'count',
  'concurrency',
  'agents',
  'seconds',
  'settle',
  'nodes',
  'replicas',
  'cap',
  'audit-ms',
] as const) {
  const v = values[option];
  if (v !== undefined && !(Number.isInteger(Number(v)) && Number(v) > 0)) {
    console.error(`--${option} must be a positive whole number, not "${v}"`);
    process.exit(2);
  }
}
const figures = await bench.run(values, (line) => console.error(line));
if (values.json) {
  console.log(JSON.stringify({ bench: name, ...figures }));
} else {
  const width = Math.max(...Object.keys(figures).map((k) => k.length));
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(width)}  ${v}`);
}
