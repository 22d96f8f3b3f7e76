/**
 * `npm run bench -- rollout [--agents N] [--release-mib M] [--json]`: N simulated nodes, enrolled,
 * approved and joined, take a staged rollout of an agent release of M MiB (random bytes uploaded
 * as the `homenode-agent` artifact) from the real server process: stages of 10 %, 50 % and 100 %
 * with no soak, so the figures are the time each stage takes to serve its downloads and see its
 * nodes back as the new version. Each simulated node downloads the release with its node JWT,
 * checks its SHA-256, reports update-status and reconnects as the new version, as the real agent
 * does minus the install. The server's memory is sampled throughout: the downloads are streamed
 * from disk and paced (at most `maxInFlight` nodes of a rollout at once), so it must stay flat.
 */
import { randomBytes } from 'node:crypto';
import { FleetAgent } from '../sim/fleet-agent.js';
import { ONE_ADDRESS_FLEET_ENV } from '../sim/one-address.js';
import { approveSimNodes, enrollSimNodes } from './fleet.js';
import { startServerProcess } from './server-process.js';
import { round } from './stats.js';

const VERSION = '9.9.0-bench';
const STAGES = [10, 50, 100];

interface RolloutView {
  stage: number;
  state: string;
  counts: Record<string, number>;
}

export async function benchRollout({
  agents,
  releaseMiB,
  log,
}: {
  agents: number;
  releaseMiB: number;
  log: (l: string) => void;
}): Promise<Record<string, number>> {
  const server = await startServerProcess({ ...ONE_ADDRESS_FLEET_ENV });
  const fleet: FleetAgent[] = [];
  const auth = { authorization: `Bearer ${server.token}` };
  const json = { ...auth, 'content-type': 'application/json' };
  let sampler: NodeJS.Timeout | undefined;
  try {
    log(`enrolling and approving ${agents} simulated nodes…`);
    const nodes = await enrollSimNodes(server.url, server.token, agents);
    await approveSimNodes(server.url, server.token, nodes);

    log(`uploading a ${releaseMiB} MiB release as homenode-agent ${VERSION}…`);
    const upload = await fetch(`${server.url}/v1/artifacts?name=homenode-agent&version=${VERSION}`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(randomBytes(Math.round(releaseMiB * 1024 * 1024))),
    });
    if (upload.status !== 201) throw new Error(`upload: ${upload.status} ${await upload.text()}`);

    let downloading = 0;
    let maxDownloading = 0;
    let downloads = 0;
    let bytesServed = 0;
    for (const n of nodes)
      fleet.push(
        new FleetAgent({
          url: server.url,
          nodeId: n.nodeId,
          identity: n.identity,
          joins: true,
          audits: { verdict: () => 'pass', durationMs: 200 },
          updates: {
            onDownload: (phase, bytes) => {
              if (phase === 'start') {
                downloading += 1;
                maxDownloading = Math.max(maxDownloading, downloading);
                return;
              }
              downloading -= 1;
              downloads += 1;
              bytesServed += bytes;
            },
          },
        }),
      );
    log(`connecting ${agents} agents; each joins…`);
    fleet.forEach((a, i) => setTimeout(() => a.start(), Math.floor(i / 100) * 50));
    const deadline = Date.now() + 15 * 60_000;
    while (!fleet.every((a) => a.connected && a.status === 'active')) {
      if (Date.now() > deadline) throw new Error('not every agent became active');
      await new Promise((r) => setTimeout(r, 500));
    }

    const rssBefore = server.rssMiB();
    let rssPeak = rssBefore;
    sampler = setInterval(() => (rssPeak = Math.max(rssPeak, server.rssMiB())), 250);
    log(`rolling out ${VERSION} in stages of ${STAGES.join(' %, ')} % (no soak)…`);
    const created = await fetch(`${server.url}/v1/rollouts`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({
        artifact: 'homenode-agent',
        version: VERSION,
        stages: STAGES.map((percent) => ({ percent, soakMinutes: 0 })),
        maxFailures: Math.max(1, Math.ceil(agents / 100)),
      }),
    });
    const rollout = (await created.json()) as { id: string };
    if (created.status !== 201) throw new Error(`rollout: ${created.status} ${JSON.stringify(rollout)}`);
    const t0 = performance.now();
    const stageEnds: number[] = [];
    let view: RolloutView | undefined;
    let reported = 0;
    for (;;) {
      const updated = fleet.filter((a) => a.agentVersion === VERSION).length;
      view = (await (
        await fetch(`${server.url}/v1/rollouts/${rollout.id}`, { headers: auth })
      ).json()) as RolloutView;
      // A stage has ended when the next one has started (the last: when every node is updated).
      while (stageEnds.length < view.stage - 1) stageEnds.push(performance.now() - t0);
      if (updated === agents && (view.counts.healthy ?? 0) === agents) {
        stageEnds.push(performance.now() - t0);
        break;
      }
      if (Math.floor((performance.now() - t0) / 10_000) > reported) {
        reported += 1;
        log(
          `  stage ${view.stage}: ${JSON.stringify(view.counts)}, ${updated} on the new version, ${downloading} downloading`,
        );
      }
      if (view.state !== 'active')
        throw new Error(`the rollout is ${view.state}: ${JSON.stringify(view.counts)}`);
      if (performance.now() - t0 > 20 * 60_000)
        throw new Error(`rollout not done in 20 min: ${JSON.stringify(view.counts)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    clearInterval(sampler);
    const stageSeconds = stageEnds.map((end, i) => round((end - (stageEnds[i - 1] ?? 0)) / 1000, 1));
    return {
      agents,
      releaseMiB,
      downloads,
      gibServed: round(bytesServed / 1024 ** 3, 2),
      maxConcurrentDownloads: maxDownloading,
      ...Object.fromEntries(stageSeconds.map((s, i) => [`stage${i + 1}Seconds(${STAGES[i]}%)`, s])),
      totalSeconds: round(stageEnds.at(-1)! / 1000, 1),
      healthy: view.counts.healthy ?? 0,
      failed: (view.counts.failed ?? 0) + (view.counts['rolled-back'] ?? 0),
      serverRssBeforeMiB: round(rssBefore),
      serverRssPeakMiB: round(rssPeak),
      serverPeakRssMiB: round(server.peakRssMiB()),
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(fleet.map((a) => a.stop(false)));
    await server.stop();
    server.cleanup();
  }
}
