/**
 * The k3s agent: its config (labels, overlay IP and interface) and its systemd unit written when
 * they change, then started, or restarted when the config, the unit, the binary or the NVIDIA
 * runtime changed (k3s finds the runtime only when it starts).
 */
import { join as joinPath } from 'node:path';
import type { JoinMessage } from '../../protocol/control.js';
import { renderK3sConfig } from './join-config.js';
import { type JoinDeps, JoinStepError, must } from './join-context.js';
import { writeIfChanged } from './join-files.js';
import { K3S_UNIT, renderK3sUnit } from './k3s-unit.js';

export async function ensureK3s(join: JoinMessage, deps: JoinDeps, alsoChanged: boolean): Promise<void> {
  const { exec, config } = deps;
  let configChanged: boolean;
  let unitChanged: boolean;
  try {
    configChanged = await writeIfChanged(
      config.paths.k3sConfigPath,
      renderK3sConfig(join, config.wireguardInterface),
    );
    unitChanged = await writeIfChanged(
      joinPath(config.paths.systemdDir, `${K3S_UNIT}.service`),
      renderK3sUnit({ k3sBinary: config.paths.k3sBinary, configPath: config.paths.k3sConfigPath }),
      0o644,
    );
  } catch (error) {
    throw new JoinStepError('k3s', `Writing the k3s configuration failed: ${String(error)}`, {
      cause: error,
    });
  }
  if (unitChanged) must(await exec('systemctl', ['daemon-reload']), 'k3s', 'Reloading systemd failed');
  const active = (await exec('systemctl', ['is-active', '--quiet', K3S_UNIT])).ok;
  if (!active) {
    must(
      await exec('systemctl', ['enable', '--now', K3S_UNIT], { timeoutMs: 120_000 }),
      'k3s',
      'Starting the k3s agent failed',
    );
    deps.log('join_k3s_started', `k3s agent started as ${join.cluster.nodeName}.`);
  } else if (configChanged || unitChanged || alsoChanged) {
    must(
      await exec('systemctl', ['restart', K3S_UNIT], { timeoutMs: 120_000 }),
      'k3s',
      'Restarting the k3s agent failed',
    );
    deps.log('join_k3s_restarted', 'k3s agent restarted with the new configuration.');
  }
}
