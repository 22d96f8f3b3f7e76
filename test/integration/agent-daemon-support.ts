/**
 * Helpers for the daemon's integration tests: a real server, a node enrolled with a real agent
 * identity (written to a temp state dir as the agent would), a config with short intervals and every
 * path in a temp dir, and the cluster stand-ins (wg, wg-quick, systemctl, k3s, dpkg, journalctl, dmesg) plus
 * the RTX 4090 nvidia-smi/lspci first on PATH.
 */
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateIdentity } from '../../agent/state/identity.js';
import { createStateStore } from '../../agent/state/state-store.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import { FAST_AGENTS, type TestServer, type TestServerOptions, startTestServer } from '../helpers/server.js';
import {
  FACTS,
  FIXTURES,
  STANDINS,
  standInPath,
  startAgent,
  tempDir,
  type AgentProcess,
} from './agent-support.js';

export const CLUSTER_STANDINS = join(FIXTURES, 'bin-cluster');

export interface DaemonSetupOptions {
  remoteShell?: boolean;
  /** Extra config file fields (merged over the fast defaults). */
  config?: Record<string, unknown>;
  approve?: boolean;
  /** The server's clock (e.g. ten minutes behind the agent's). */
  serverNow?: () => number;
  /**
   * A k3s already installed at `paths.k3sBinary` (the k3s stand-in, as on a machine that joined
   * before artifacts existed). Default true; false: the join must bring its own k3s.
   */
  k3sInstalled?: boolean;
  /** More server options (a policy, a pinned k3s version, the audit scheduler's tick). */
  server?: TestServerOptions;
}

export const FAST_INTERVALS = {
  heartbeatMs: 300,
  usageSampleMs: 100,
  usageReportMs: 600,
  hardwareProbeMs: 60_000,
  reconnectMinMs: 100,
  reconnectMaxMs: 800,
  healthyAfterMs: 200,
};

export type NodeDetail = {
  id: string;
  status: string;
  statusReason?: string | null;
  online: boolean;
  metrics: Record<string, unknown> | null;
  labels: Record<string, string>;
  flags: { kind: string; message: string }[];
};

/** A real hub key (`wg genkey | wg pubkey`): the server's development default is not one. */
export const TEST_HUB_PUBLIC_KEY = 'A5PdAVG5X3iapC5I1ezbrc0nZD1SxpVMI8NrK5VkM1o=';

export async function setupDaemon(options: DaemonSetupOptions = {}) {
  const server: TestServer = await startTestServer({
    control: FAST_AGENTS,
    ...(options.serverNow ? { now: options.serverNow } : {}),
    cluster: { hubPublicKey: TEST_HUB_PUBLIC_KEY },
    ...options.server,
  });
  const dir = tempDir('homenode-daemon-');
  const stateDir = join(dir, 'state');
  const standinState = join(dir, 'standin-state');
  mkdirSync(standinState);
  const standinLog = join(dir, 'standin.log');
  writeFileSync(standinLog, '');

  const identity = await generateIdentity(Date.now);
  const store = createStateStore(stateDir);
  await store.identity.save(identity);
  const owner = await server.createOwner();
  const { key } = await server.createKey(owner.id);
  const facts = JSON.parse(readFileSync(join(FACTS, 'rtx4090.json'), 'utf8')) as { hardware: HardwareFacts };
  const enrolled = await server.api<{ nodeId: string; status: 'pending' }>('POST', '/v1/enroll', {
    token: null,
    body: {
      installationKey: key,
      publicKey: identity.publicKey,
      fingerprint: createHash('sha256').update(randomBytes(16)).digest('hex'),
      hardware: facts.hardware,
      preflight: assessHardware(facts.hardware, resolvePolicy()),
      agentVersion: '0.1.0',
    },
  });
  if (enrolled.status !== 201) throw new Error(`enroll: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
  const nodeId = enrolled.body.nodeId;
  await store.node.save({
    nodeId,
    status: 'pending',
    serverUrl: server.url,
    fingerprint: 'test',
    enrolledAt: new Date().toISOString(),
  });
  if (options.approve) await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });

  const paths = {
    wireguardDir: join(dir, 'etc/wireguard'),
    k3sConfigPath: join(dir, 'etc/rancher/k3s/config.yaml'),
    spoolDir: join(dir, 'spool'),
    logFile: join(stateDir, 'agent.log'),
    k3sBinary: join(dir, 'usr/local/bin/k3s'),
    systemdDir: join(dir, 'etc/systemd/system'),
    downloadDir: join(stateDir, 'downloads'),
    embeddedK3s: join(dir, 'opt/homenode/k3s/k3s'),
    runtimeRoot: join(dir, 'root'),
  };
  if (options.k3sInstalled !== false) {
    mkdirSync(join(dir, 'usr/local/bin'), { recursive: true });
    copyFileSync(join(CLUSTER_STANDINS, 'k3s'), paths.k3sBinary);
  }
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      intervals: FAST_INTERVALS,
      paths,
      wireguardInterface: 'hn0',
      ...(options.remoteShell === undefined ? {} : { remoteShell: options.remoteShell }),
      ...options.config,
    }),
  );
  const env = {
    HOMENODE_STANDIN_LOG: standinLog,
    HOMENODE_STANDIN_STATE: standinState,
    HOMENODE_STANDIN_GPUS: join(dir, 'gpus.csv'),
    // The systemctl stand-in runs a unit's ExecStart from here, as systemd would.
    HOMENODE_STANDIN_SYSTEMD_DIR: paths.systemdDir,
    // The dpkg stand-in installs nvidia-container-runtime under the root k3s looks in.
    HOMENODE_STANDIN_RUNTIME_ROOT: paths.runtimeRoot,
  };
  let url = server.url;
  const agents: AgentProcess[] = [];

  return {
    server,
    nodeId,
    identity,
    dir,
    stateDir,
    paths,
    configPath,
    standinLog,
    get url() {
      return url;
    },
    /** Point later agents at another address (a relay in front of the server). */
    useUrl(next: string) {
      url = next;
    },
    /** Starts the agent; `firstOnPath` folders come before the stand-ins (real tools in a namespace). */
    start(extraEnv: Record<string, string> = {}, firstOnPath: string[] = []) {
      const agent = startAgent(['run', '--server', url, '--state-dir', stateDir, '--config', configPath], {
        env: { ...env, ...extraEnv },
        path: standInPath(...firstOnPath, CLUSTER_STANDINS, STANDINS.rtx4090),
      });
      agents.push(agent);
      return agent;
    },
    /** Argv lines the stand-ins logged, e.g. `wg genkey`. */
    calls(): string[] {
      return readFileSync(standinLog, 'utf8').split('\n').filter(Boolean);
    },
    node: async (id = nodeId, on: TestServer = server) =>
      (await on.api<NodeDetail>('GET', `/v1/nodes/${id}`)).body,
    usageRows: (on: TestServer = server) => on.app.homenode.context.repos.usage.forNode(nodeId),
    async cleanup() {
      for (const agent of agents) agent.kill('SIGKILL');
      await Promise.all(agents.map((a) => a.done));
      await server.close().catch(() => undefined);
    },
  };
}
export type DaemonSetup = Awaited<ReturnType<typeof setupDaemon>>;

/**
 * A WebSocket relay between the agent and the server (a man in the middle of an http:// link):
 * `fromServer` sees each server frame and returns what to pass on (null drops it). It can also cut
 * every relayed connection.
 */
export async function startRelay(target: string, fromServer: (text: string) => string | null) {
  const { WebSocketServer, WebSocket } = await import('ws');
  const http = await import('node:http');
  const pairs = new Set<{ a: InstanceType<typeof WebSocket>; b: InstanceType<typeof WebSocket> }>();
  const wss = new WebSocketServer({ noServer: true });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req, socket, head) => {
    const upstream = new WebSocket(target.replace(/^http/, 'ws') + (req.url ?? '/'), {
      headers: { authorization: req.headers.authorization ?? '' },
    });
    upstream.once('unexpected-response', (_r, res) => {
      socket.end(`HTTP/1.1 ${res.statusCode ?? 502} Refused\r\nConnection: close\r\n\r\n`);
    });
    upstream.once('error', () => socket.destroy());
    upstream.once('open', () => {
      wss.handleUpgrade(req, socket, head, (client) => {
        const pair = { a: client, b: upstream };
        pairs.add(pair);
        upstream.on('message', (data: Buffer) => {
          const text = fromServer(data.toString());
          if (text !== null) client.send(text);
        });
        client.on('message', (data: Buffer) => upstream.send(data.toString()));
        const end = () => {
          pairs.delete(pair);
          client.terminate();
          upstream.terminate();
        };
        client.on('close', end);
        upstream.on('close', end);
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const cut = () => {
    for (const { a, b } of pairs) {
      a.terminate();
      b.terminate();
    }
    pairs.clear();
  };
  return {
    url: `http://127.0.0.1:${port}`,
    /** Cut every relayed connection (the agent sees a dropped network). */
    cut,
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A relay that drops the server's `ack` frames on demand: an acknowledgement lost in transit. */
export async function startAckDroppingRelay(target: string) {
  const state = { dropAcks: true, dropped: 0 };
  const relay = await startRelay(target, (text) => {
    if (state.dropAcks && text.includes('"type":"ack"')) {
      state.dropped += 1;
      return null;
    }
    return text;
  });
  return { ...relay, state };
}
