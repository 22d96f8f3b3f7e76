/**
 * The real agent daemon (`npm run agent -- run`) for the browser tests, on the state dir that
 * `agent enroll` wrote: it keeps the control channel open and serves remote shells with a real
 * bash in a pseudo-terminal. Everything it would write on a machine goes to a temp dir, and the
 * cluster programs (wg, k3s, systemctl…) and nvidia-smi/lspci are the recorded stand-ins.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  STANDINS,
  type AgentProcess,
  standInPath,
  startAgent,
  tempDir,
} from '../integration/agent-support.js';
import { CLUSTER_STANDINS } from '../integration/agent-daemon-support.js';

export function startRealAgent(serverUrl: string, stateDir: string): AgentProcess {
  const dir = tempDir('homenode-e2e-daemon-');
  const standinState = join(dir, 'standin-state');
  mkdirSync(standinState);
  const configPath = join(dir, 'config.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      intervals: { heartbeatMs: 2_000, reconnectMinMs: 200, reconnectMaxMs: 2_000 },
      paths: {
        wireguardDir: join(dir, 'etc/wireguard'),
        k3sConfigPath: join(dir, 'etc/rancher/k3s/config.yaml'),
        spoolDir: join(dir, 'spool'),
        logFile: join(dir, 'agent.log'),
      },
      wireguardInterface: 'hn0',
      shellCommand: ['/bin/bash', '--norc', '--noprofile', '-i'],
    }),
  );
  return startAgent(['run', '--server', serverUrl, '--state-dir', stateDir, '--config', configPath], {
    env: {
      HOMENODE_STANDIN_LOG: join(dir, 'standin.log'),
      HOMENODE_STANDIN_STATE: standinState,
      HOMENODE_STANDIN_GPUS: join(dir, 'gpus.csv'),
    },
    path: standInPath(CLUSTER_STANDINS, STANDINS.rtx4090),
  });
}
