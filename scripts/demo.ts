/**
 * `npm run demo`: the real enroll-server (its own process, database ./data/demo.db, made afresh)
 * with a few dozen simulated nodes speaking the real protocol: some pending, most approved and
 * active with heartbeats and workload reports, one rejected, and one misbehaving node that sends
 * garbage and reconnects. Open the printed URL and sign in with the printed token.
 */
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { weekContaining } from '../protocol/periods.js';
import { enrollSimNodes } from './bench/fleet.js';
import { startServerProcess } from './bench/server-process.js';
import { FleetAgent } from './sim/fleet-agent.js';
import { ONE_ADDRESS_FLEET_ENV } from './sim/one-address.js';
import { connectControl, signNodeToken, simHello } from './sim/sim-agent.js';

const { values } = parseArgs({
  options: { nodes: { type: 'string', default: '36' }, help: { type: 'boolean' } },
});
if (values.help) {
  console.log(
    'Usage: npm run demo [-- --nodes N]\n\nStarts the enroll-server on ./data/demo.db (recreated) with N simulated nodes (default 36).',
  );
  process.exit(0);
}
const count = Number(values.nodes);
if (!Number.isInteger(count) || count < 4 || count > 2000) {
  console.error('--nodes must be a whole number from 4 to 2000');
  process.exit(2);
}

const dbPath = resolve('data/demo.db');
for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
const server = await startServerProcess({
  ...ONE_ADDRESS_FLEET_ENV,
  HOMENODE_DB: dbPath,
  HOMENODE_LOG_LEVEL: 'warn',
});
const auth = { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' };
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(server.url + path, {
    method,
    headers: auth,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};

console.log(`Enrolling ${count} simulated nodes…`);
const nodes = await enrollSimNodes(server.url, server.token, count);
const pending = Math.max(2, Math.floor(count / 6));
const [rejected, misbehaving, ...rest] = nodes;
await api('POST', `/v1/nodes/${rejected!.nodeId}/reject`, {
  reason: 'The GPU reported 95 °C at idle: clean the fans and enroll again.',
});
const approved = rest.slice(pending);
for (const n of approved) await api('POST', `/v1/nodes/${n.nodeId}/approve`, { note: 'demo' });
await api('POST', `/v1/nodes/${misbehaving!.nodeId}/approve`, {});

const card = await import('../docs/examples/rate-card.example.json', { with: { type: 'json' } });
await api('POST', '/v1/rate-cards', { ...card.default, effectiveFrom: '2020-01-01T00:00:00Z' });
const week = weekContaining(Date.now());
await api('POST', '/v1/payout-periods', {
  start: new Date(week.start).toISOString(),
  end: new Date(week.end).toISOString(),
});

const fleet = rest.map(
  (n) =>
    new FleetAgent({
      url: server.url,
      nodeId: n.nodeId,
      identity: n.identity,
      joins: true,
      heartbeatMs: 5000,
    }),
);
for (const agent of fleet) agent.start();
// Workload reports every 30 s from every third active node.
const reporting = setInterval(() => {
  const to = Date.now();
  fleet.forEach((agent, i) => {
    if (i % 3 === 0 && agent.status === 'active')
      void agent.report(to - 30_000, to, [{ leaseId: `akash1demo${i}/100/1/1`, gpus: 1, seconds: 30 }]);
  });
}, 30_000);
// The misbehaving node: connects, sends garbage, gets cut off, tries again.
const misbehave = setInterval(() => {
  void (async () => {
    const { conn } = await connectControl(
      server.url,
      await signNodeToken(misbehaving!.identity, misbehaving!.nodeId),
    );
    if (!conn) return;
    conn.send(simHello());
    for (let i = 0; i < 12; i += 1) conn.send(i % 2 ? '{"type":"heartbeat","seq":"x"}' : 'not json');
  })();
}, 20_000);

console.log(`
Home Node demo is running (development mode: the nodes join no real cluster).
  Dashboard: ${server.url}/
  Admin API token (sign in with it): ${server.token}
  CLI: HOMENODE_URL=${server.url} HOMENODE_TOKEN=${server.token} npm run admin -- nodes list
  ${approved.length} approved nodes (joining and turning active), ${pending} pending, 1 rejected, 1 misbehaving.
Press Ctrl-C to stop.`);

const shutdown = async () => {
  clearInterval(reporting);
  clearInterval(misbehave);
  await Promise.all(fleet.map((a) => a.stop(true)));
  await server.stop();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
