/**
 * Cluster join, in order: every field checked by pattern; the software the join names verified and
 * fetched (nothing else changes when an artifact is refused); runtime packages installed; the
 * WireGuard overlay up; the k3s binary, config and unit in place and the k3s agent started (on the
 * overlay interface, with the Akash labels). Idempotent: the WireGuard key is made once, files are
 * rewritten only when their content changes, packages installed once per set, and k3s restarted
 * only when something it reads changed. What was applied is remembered in `join.json`.
 */
import { mkdir } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { JoinFailure, JoinMessage } from '../../protocol/control.js';
import { joinFieldProblem } from '../../protocol/join-fields.js';
import { readTextIfExists, removeFileDurably, writeFileAtomic } from '../state/atomic-file.js';
import { joinDigest } from './join-config.js';
import { type JoinDeps, JoinStepError } from './join-context.js';
import { ensureK3s } from './k3s-step.js';
import { findNvidiaRuntime } from './nvidia-runtime.js';
import { installK3s, installPackages, prepareSoftware, removeDownloads } from './software-step.js';
import { ensureWireguard } from './wireguard-step.js';

export type { JoinDeps } from './join-context.js';
export { K3S_UNIT } from './k3s-unit.js';

export const JoinStateSchema = Type.Object({
  digest: Type.String(),
  nodeName: Type.String(),
  wireguardInterface: Type.String(),
  wireguardConfigPath: Type.String(),
  wireguardPublicKey: Type.String(),
  appliedAt: Type.String(),
  /** The SHA-256 of the k3s binary installed. */
  k3sSha256: Type.Optional(Type.String()),
  /** The SHA-256s of the runtime packages installed, in order. */
  packages: Type.Optional(Type.Array(Type.String())),
  /** Where k3s finds the NVIDIA container runtime, when it does. */
  nvidiaRuntime: Type.Optional(Type.Union([Type.String(), Type.Null()])),
});
export type JoinState = Static<typeof JoinStateSchema>;
const checkJoinState = Compile(JoinStateSchema);

export type JoinOutcome =
  | { ok: true; wireguardPublicKey: string; changed: boolean }
  | { ok: false; error: string; failure?: JoinFailure };

export const joinStatePath = (stateDir: string) => joinPath(stateDir, 'join.json');

export async function loadJoinState(stateDir: string): Promise<JoinState | undefined> {
  const text = await readTextIfExists(joinStatePath(stateDir));
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return checkJoinState.Check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export const forgetJoinState = (stateDir: string) => removeFileDurably(joinStatePath(stateDir));

/** Why a join is refused before anything is changed, in words for the log and for ops. */
export const refusedJoinMessage = (problem: string) =>
  `The join message was refused and nothing was changed: ${problem}. The server's cluster settings need fixing.`;

const isGpuNode = (join: JoinMessage) => join.labels['nvidia.com/gpu.present'] === 'true';

async function noteRuntime(join: JoinMessage, runtime: string | undefined, deps: JoinDeps): Promise<void> {
  if (runtime) {
    deps.log(
      'join_nvidia_runtime',
      `NVIDIA container runtime found at ${runtime}: k3s adds the "nvidia" runtime handler when it starts.`,
    );
  } else if (isGpuNode(join)) {
    deps.log(
      'join_nvidia_runtime_missing',
      'No NVIDIA container runtime on this machine: GPU workloads (runtimeClassName: nvidia) cannot ' +
        'start here until ops publish the NVIDIA container toolkit (docs/node-software.md).',
    );
  }
}

export async function applyJoin(join: JoinMessage, deps: JoinDeps): Promise<JoinOutcome> {
  // Checked before any key is made or file written (the renderers check again before writing).
  const problem = joinFieldProblem(join);
  if (problem) return { ok: false, error: refusedJoinMessage(problem), failure: 'fields' };
  const previous = await loadJoinState(deps.stateDir);
  const digest = joinDigest(join);
  try {
    const software = await prepareSoftware(join, deps, previous?.packages);
    const packagesChanged = await installPackages(software, previous?.packages, deps);
    const { publicKey, confPath } = await ensureWireguard(join, deps);
    const k3sChanged = await installK3s(software, deps);
    const runtime = await findNvidiaRuntime(deps.config.paths.runtimeRoot);
    await noteRuntime(join, runtime, deps);
    const runtimeChanged = (previous?.nvidiaRuntime ?? undefined) !== runtime;
    await ensureK3s(join, deps, k3sChanged || packagesChanged || (previous !== undefined && runtimeChanged));
    const state: JoinState = {
      digest,
      nodeName: join.cluster.nodeName,
      wireguardInterface: deps.config.wireguardInterface,
      wireguardConfigPath: confPath,
      wireguardPublicKey: publicKey,
      appliedAt: previous?.digest === digest ? previous.appliedAt : new Date(deps.now()).toISOString(),
      k3sSha256: software.k3sSha256,
      packages: software.packageShas,
      nvidiaRuntime: runtime ?? null,
    };
    await mkdir(deps.stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(joinStatePath(deps.stateDir), `${JSON.stringify(state, null, 2)}\n`);
    await removeDownloads(deps);
    return { ok: true, wireguardPublicKey: publicKey, changed: previous?.digest !== digest || k3sChanged };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const failure = error instanceof JoinStepError ? error.failure : undefined;
    return { ok: false, error: message.slice(0, 4000), ...(failure ? { failure } : {}) };
  }
}
