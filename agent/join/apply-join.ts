/**
 * Cluster join: WireGuard key and overlay interface, then the k3s agent. Idempotent: the private
 * key is generated once and kept; files are rewritten only when their content changes; services
 * are started when they are not running and restarted only when their config changed. What was
 * applied is remembered in `join.json` (state dir).
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join as joinPath } from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import type { JoinMessage } from '../../protocol/control.js';
import { joinFieldProblem } from '../../protocol/join-fields.js';
import type { DaemonConfig } from '../cli/daemon-config.js';
import { readTextIfExists, removeFileDurably, writeFileAtomic } from '../state/atomic-file.js';
import type { Exec, ExecResult } from '../system/exec.js';
import { joinDigest, renderK3sConfig, renderWireguardConfig } from './join-config.js';

export const JoinStateSchema = Type.Object({
  digest: Type.String(),
  nodeName: Type.String(),
  wireguardInterface: Type.String(),
  wireguardConfigPath: Type.String(),
  wireguardPublicKey: Type.String(),
  appliedAt: Type.String(),
});
export type JoinState = Static<typeof JoinStateSchema>;
const checkJoinState = Compile(JoinStateSchema);

export const K3S_UNIT = 'k3s-agent';

export interface JoinDeps {
  exec: Exec;
  config: DaemonConfig;
  stateDir: string;
  now: () => number;
  log: (event: string, message: string) => void;
}

export type JoinOutcome =
  { ok: true; wireguardPublicKey: string; changed: boolean } | { ok: false; error: string };

class StepError extends Error {}

function must(result: ExecResult, what: string): ExecResult {
  if (!result.ok) throw new StepError(`${what}: ${result.problem}`);
  return result;
}

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

/** Write `text` when it differs from what is there; true when it was written. */
async function writeIfChanged(path: string, text: string): Promise<boolean> {
  if ((await readTextIfExists(path)) === text) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, text, 0o600);
  return true;
}

async function ensureWireguard(
  join: JoinMessage,
  deps: JoinDeps,
): Promise<{ publicKey: string; confPath: string }> {
  const { exec, config } = deps;
  const iface = config.wireguardInterface;
  const dir = config.paths.wireguardDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = joinPath(dir, `${iface}.key`);
  let privateKey = (await readTextIfExists(keyPath))?.trim();
  if (!privateKey) {
    privateKey = must(await exec('wg', ['genkey']), 'Generating the WireGuard key failed').stdout.trim();
    await writeFileAtomic(keyPath, `${privateKey}\n`, 0o600);
    deps.log('join_wireguard_key', `WireGuard key generated (${keyPath}).`);
  }
  const publicKey = must(
    await exec('wg', ['pubkey'], { input: `${privateKey}\n` }),
    'Deriving the WireGuard public key failed',
  ).stdout.trim();
  const confPath = joinPath(dir, `${iface}.conf`);
  const changed = await writeIfChanged(confPath, renderWireguardConfig(join, privateKey));
  const up = (await exec('wg', ['show', iface])).ok;
  if (up && changed) must(await exec('wg-quick', ['down', confPath]), `Stopping ${iface} failed`);
  if (!up || changed) {
    must(await exec('wg-quick', ['up', confPath], { timeoutMs: 60_000 }), `Starting ${iface} failed`);
    deps.log('join_wireguard_up', `WireGuard interface ${iface} is up (${join.network.address}).`);
  }
  return { publicKey, confPath };
}

async function ensureK3s(join: JoinMessage, deps: JoinDeps): Promise<void> {
  const { exec, config } = deps;
  const changed = await writeIfChanged(
    config.paths.k3sConfigPath,
    renderK3sConfig(join, config.wireguardInterface),
  );
  const active = (await exec('systemctl', ['is-active', '--quiet', K3S_UNIT])).ok;
  if (!active) {
    must(
      await exec('systemctl', ['enable', '--now', K3S_UNIT], { timeoutMs: 120_000 }),
      'Starting the k3s agent failed',
    );
    deps.log('join_k3s_started', `k3s agent started as ${join.cluster.nodeName}.`);
  } else if (changed) {
    must(
      await exec('systemctl', ['restart', K3S_UNIT], { timeoutMs: 120_000 }),
      'Restarting the k3s agent failed',
    );
    deps.log('join_k3s_restarted', 'k3s agent restarted with the new configuration.');
  }
}

/** Why a join is refused before anything is changed, in words for the log and for ops. */
export const refusedJoinMessage = (problem: string) =>
  `The join message was refused and nothing was changed: ${problem}. The server's cluster settings need fixing.`;

export async function applyJoin(join: JoinMessage, deps: JoinDeps): Promise<JoinOutcome> {
  // Checked before any key is made or file written (the renderers check again before writing).
  const problem = joinFieldProblem(join);
  if (problem) return { ok: false, error: refusedJoinMessage(problem) };
  const previous = await loadJoinState(deps.stateDir);
  const digest = joinDigest(join);
  try {
    const { publicKey, confPath } = await ensureWireguard(join, deps);
    await ensureK3s(join, deps);
    const state: JoinState = {
      digest,
      nodeName: join.cluster.nodeName,
      wireguardInterface: deps.config.wireguardInterface,
      wireguardConfigPath: confPath,
      wireguardPublicKey: publicKey,
      appliedAt: previous?.digest === digest ? previous.appliedAt : new Date(deps.now()).toISOString(),
    };
    await mkdir(deps.stateDir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(joinStatePath(deps.stateDir), `${JSON.stringify(state, null, 2)}\n`);
    return { ok: true, wireguardPublicKey: publicKey, changed: previous?.digest !== digest };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, error: message.slice(0, 4000) };
  }
}
