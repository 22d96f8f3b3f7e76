/**
 * Ops commands over the control channel (`command { id, name, args }` → `result`). Each runs real
 * programs with argument arrays and a timeout; `restart-agent` and `reboot` answer first and then
 * act (`then`), so ops get their answer before the channel goes away.
 */
import type { CommandName } from '../../protocol/control.js';
import { forgetJoinState, K3S_UNIT, loadJoinState } from '../join/apply-join.js';
import type { Exec, ExecResult } from '../system/exec.js';
import { boundOutput } from './bounded-output.js';
import { collectDiagnostics } from './diagnostics.js';

export interface CommandOutcome {
  ok: boolean;
  output?: string;
  error?: string;
  /** What the daemon does after the answer was sent. */
  then?: 'restart-agent' | 'reboot';
}

export interface CommandDeps {
  exec: Exec;
  stateDir: string;
  logFile: string;
  /** Probe and assess this machine; the checks as text and whether one failed. */
  preflight: () => Promise<{ text: string; failed: boolean }>;
}

const KUBECTL_TIMEOUT_MS = 60_000;

function describe(result: ExecResult, label: string): string {
  const out = [result.stdout.trim(), result.stderr.trim()].filter(Boolean).join('\n');
  return `$ ${label}\n${out || (result.ok ? '(no output)' : result.problem)}`;
}

async function nodeName(deps: CommandDeps): Promise<string | undefined> {
  return (await loadJoinState(deps.stateDir))?.nodeName;
}

async function kubectl(
  deps: CommandDeps,
  verb: string,
  extra: string[],
  timeoutMs: number,
): Promise<CommandOutcome> {
  const name = await nodeName(deps);
  if (!name) return { ok: false, error: 'This machine has not joined the cluster yet.' };
  const args = ['kubectl', verb, name, ...extra];
  const result = await deps.exec('k3s', args, { timeoutMs });
  const output = boundOutput(describe(result, `k3s ${args.join(' ')}`), { keep: 'tail' });
  return result.ok ? { ok: true, output } : { ok: false, output, error: result.problem };
}

function drainArgs(args: Record<string, unknown>): { extra: string[]; timeoutMs: number } {
  const seconds =
    typeof args.timeoutSeconds === 'number' && args.timeoutSeconds > 0
      ? Math.min(args.timeoutSeconds, 280)
      : 240;
  return {
    extra: ['--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${Math.round(seconds)}s`],
    timeoutMs: (seconds + 15) * 1000,
  };
}

async function leaveCluster(deps: CommandDeps): Promise<CommandOutcome> {
  const state = await loadJoinState(deps.stateDir);
  const steps = [await deps.exec('systemctl', ['disable', '--now', K3S_UNIT], { timeoutMs: 120_000 })];
  const labels = [`systemctl disable --now ${K3S_UNIT}`];
  if (state) {
    steps.push(await deps.exec('wg-quick', ['down', state.wireguardConfigPath], { timeoutMs: 60_000 }));
    labels.push(`wg-quick down ${state.wireguardConfigPath}`);
    await forgetJoinState(deps.stateDir);
  }
  const output = boundOutput(steps.map((s, i) => describe(s, labels[i] ?? '')).join('\n\n'));
  const failed = steps.filter((s) => !s.ok);
  return failed.length
    ? { ok: false, output, error: failed.map((s) => s.problem).join('; ') }
    : { ok: true, output };
}

export async function runNodeCommand(
  name: CommandName,
  args: Record<string, unknown>,
  deps: CommandDeps,
): Promise<CommandOutcome> {
  switch (name) {
    case 'run-preflight': {
      const { text, failed } = await deps.preflight();
      return { ok: true, output: boundOutput(`${text}\n${failed ? 'A check failed.' : 'No check failed.'}`) };
    }
    case 'collect-diagnostics':
      return { ok: true, output: await collectDiagnostics(deps.exec, deps.logFile) };
    case 'restart-agent':
      return { ok: true, output: 'The agent is restarting.', then: 'restart-agent' };
    case 'reboot':
      return { ok: true, output: 'The machine is rebooting.', then: 'reboot' };
    case 'leave-cluster':
      return leaveCluster(deps);
    case 'cordon':
    case 'uncordon':
      return kubectl(deps, name, [], KUBECTL_TIMEOUT_MS);
    case 'drain': {
      const { extra, timeoutMs } = drainArgs(args);
      return kubectl(deps, 'drain', extra, timeoutMs);
    }
  }
}
