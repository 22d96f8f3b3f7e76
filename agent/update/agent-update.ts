/**
 * The agent's side of an update (docs/updates.md). On `update`: the release key's signature is
 * checked before anything is downloaded, the release is downloaded (resuming after a cut) and its
 * SHA-256 checked, unpacked beside the running one, the pending update recorded durably, `current`
 * switched, and the agent exits for the supervisor to start the new release. Each step is an
 * `update-status`. After a welcome the agent writes the supervisor's health marker and reports the
 * outcome of the last update once (healthy, or rolled back with the reason the supervisor wrote).
 */
import { rm } from 'node:fs/promises';
import type { JWK } from 'jose';
import type { AgentMessage } from '../../protocol/control.js';
import {
  AGENT_ARTIFACT,
  DEFAULT_UPDATE_HEALTH_SECONDS,
  type UpdateMessage,
  type UpdateState,
} from '../../protocol/update.js';
import { type FetchDeps, fetchArtifact } from '../artifacts/fetch-artifact.js';
import { readTextIfExists, writeFileAtomic } from '../state/atomic-file.js';
import { installRelease } from './install-release.js';
import {
  type ReleaseLayout,
  currentVersion,
  readUpdateState,
  releaseLayout,
  switchCurrent,
  writeUpdateState,
} from './release-layout.js';

export interface AgentUpdateDeps {
  /** The release root the supervisor gave (HOMENODE_RELEASE_ROOT); undefined: not supervised. */
  releaseRoot: string | undefined;
  /** The supervisor's id for this start (HOMENODE_START_ID). */
  startId: string | undefined;
  version: string;
  releaseKey: JWK | undefined;
  fetch: Omit<FetchDeps, 'releaseKey' | 'downloadDir'>;
  downloadDir: string;
  now: () => number;
  send: (message: AgentMessage) => boolean;
  note: (level: 'info' | 'warn' | 'error', event: string, message: string) => void;
  /** Ends the session and the process so that the supervisor starts `current` (exit 75). */
  restart: () => Promise<void>;
}

export function createAgentUpdates(deps: AgentUpdateDeps) {
  const layout: ReleaseLayout | undefined = deps.releaseRoot ? releaseLayout(deps.releaseRoot) : undefined;
  let busy = false;

  const status = (update: UpdateMessage, state: UpdateState, error?: string) => {
    deps.send({
      type: 'update-status',
      rolloutId: update.rolloutId,
      version: update.artifact.version,
      state,
      ...(error ? { error: error.slice(0, 4000) } : {}),
    });
  };

  async function apply(update: UpdateMessage): Promise<void> {
    const { version } = update.artifact;
    if (!layout) {
      status(
        update,
        'failed',
        'This agent does not run from a release layout under the supervisor (homenode-supervisor), so it ' +
          'cannot update itself. Reinstall the machine from a current image.',
      );
      return;
    }
    if (update.artifact.name !== AGENT_ARTIFACT) {
      status(update, 'failed', `"${update.artifact.name}" is not an agent release (${AGENT_ARTIFACT}).`);
      return;
    }
    if (version === deps.version) {
      status(update, 'healthy');
      return;
    }
    const state = await readUpdateState(layout);
    if (state.rolledBack.includes(version)) {
      status(
        update,
        'failed',
        `Release ${version} rolled back on this machine before; it is not installed again.`,
      );
      return;
    }
    if (busy || state.pending) return;
    busy = true;
    try {
      deps.note('info', 'update_started', `Updating the agent from ${deps.version} to ${version}.`);
      status(update, 'downloading');
      const file = await fetchArtifact(AGENT_ARTIFACT, update.artifact, {
        ...deps.fetch,
        releaseKey: deps.releaseKey,
        downloadDir: deps.downloadDir,
      });
      status(update, 'installing');
      const running = (await currentVersion(layout)) ?? deps.version;
      await installRelease(layout, file, version, [running, deps.version]);
      await rm(file, { force: true });
      const now = deps.now();
      const seconds = update.healthSeconds ?? DEFAULT_UPDATE_HEALTH_SECONDS;
      await writeUpdateState(layout, {
        rolledBack: state.rolledBack,
        pending: {
          rolloutId: update.rolloutId,
          version,
          previous: running,
          startedAt: now,
          deadlineAt: now + seconds * 1000,
          starts: 0,
        },
      });
      await switchCurrent(layout, version);
      status(update, 'restarting');
      deps.note(
        'info',
        'update_restart',
        `Agent ${version} is installed; restarting into it (it must be welcomed within ${seconds} s or the node goes back to ${running}).`,
      );
      await deps.restart();
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.note('error', 'update_failed', `The update to ${version} failed: ${message}`);
      status(update, 'failed', message);
    } finally {
      busy = false;
    }
  }

  /** After a welcome: the health marker, then the last outcome if not reported yet. */
  async function welcomed(): Promise<void> {
    if (!layout) return;
    if (deps.startId) await writeFileAtomic(layout.healthFile, `${deps.version} ${deps.startId}\n`, 0o644);
    // The supervisor settles a pending update once it sees the marker (it polls every 250 ms).
    for (let i = 0; i < 40; i += 1) {
      const state = await readUpdateState(layout);
      if (!state.pending || state.pending.version !== deps.version) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const { outcome } = await readUpdateState(layout);
    if (!outcome) return;
    if ((await readTextIfExists(layout.reportedFile))?.trim() === String(outcome.at)) return;
    const sent = deps.send({
      type: 'update-status',
      rolloutId: outcome.rolloutId,
      version: outcome.version,
      state: outcome.state,
      ...(outcome.error ? { error: outcome.error } : {}),
    });
    if (sent) await writeFileAtomic(layout.reportedFile, `${outcome.at}\n`, 0o644);
    if (outcome.state === 'rolled-back')
      deps.note(
        'warn',
        'update_rolled_back',
        `Agent ${outcome.version} was rolled back: ${outcome.error ?? ''}`,
      );
  }

  return {
    update: (message: UpdateMessage) => {
      void apply(message);
    },
    welcomed: () =>
      welcomed().catch((error: unknown) =>
        deps.note('warn', 'update_state_unreadable', `Update state: ${String(error)}`),
      ),
  };
}
