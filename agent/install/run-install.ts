/**
 * Executes an install plan step by step with progress ("[3/18] Formatting ... done (2.1 s)"). A
 * failing step stops the install, unmounts what was mounted and says which step failed and why;
 * the live system is left as it was.
 */
import { join } from 'node:path';
import type { Exec } from '../system/exec.js';
import {
  partitionPath,
  pickKernel,
  renderFstab,
  renderGrubConfig,
  type InstallInputs,
  type InstallStep,
} from './plan.js';

export interface InstallRunDeps {
  exec: Exec;
  readDir: (path: string) => Promise<string[]>;
  writeFile: (path: string, text: string) => Promise<void>;
  mkdir: (path: string) => Promise<void>;
  write: (text: string) => void;
  now: () => number;
}

export type InstallOutcome = { ok: true } | { ok: false; step: string; problem: string };

async function uuidOf(exec: Exec, device: string): Promise<string> {
  const r = await exec('blkid', ['--match-tag', 'UUID', '--output', 'value', device], { timeoutMs: 30_000 });
  const uuid = r.stdout.trim();
  if (!r.ok || !uuid) throw new Error(r.problem || `blkid found no UUID on ${device}`);
  return uuid;
}

async function writeBootFiles(inputs: InstallInputs, deps: InstallRunDeps): Promise<void> {
  const [rootUuid, efiUuid] = [
    await uuidOf(deps.exec, partitionPath(inputs.disk, 3)),
    await uuidOf(deps.exec, partitionPath(inputs.disk, 2)),
  ];
  const kernel = pickKernel(await deps.readDir(join(inputs.target, 'boot')));
  if (!kernel) throw new Error('the copied system has no kernel and initrd in /boot');
  const files = { rootUuid, efiUuid, ...kernel };
  await deps.writeFile(join(inputs.target, 'etc/fstab'), renderFstab(files));
  await deps.mkdir(join(inputs.target, 'boot/grub'));
  await deps.writeFile(join(inputs.target, 'boot/grub/grub.cfg'), renderGrubConfig(files));
}

async function runStep(
  step: InstallStep,
  inputs: InstallInputs,
  deps: InstallRunDeps,
): Promise<string | null> {
  if (step.kind === 'boot-files') {
    try {
      await writeBootFiles(inputs, deps);
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }
  const r = await deps.exec(step.program, step.args, { timeoutMs: step.timeoutMs });
  return r.ok ? null : r.problem;
}

export async function runInstall(
  steps: readonly InstallStep[],
  inputs: InstallInputs,
  deps: InstallRunDeps,
): Promise<InstallOutcome> {
  const started = deps.now();
  for (const [index, step] of steps.entries()) {
    const t0 = deps.now();
    deps.write(`[${index + 1}/${steps.length}] ${step.title} ... `);
    const problem = await runStep(step, inputs, deps);
    const seconds = ((deps.now() - t0) / 1000).toFixed(1);
    if (problem !== null) {
      deps.write(`failed (${seconds} s)\n`);
      await deps.exec('umount', ['--recursive', inputs.target], { timeoutMs: 60_000 });
      return { ok: false, step: step.title, problem };
    }
    deps.write(`done (${seconds} s)\n`);
  }
  deps.write(`Installed in ${Math.round((deps.now() - started) / 1000)} s.\n`);
  return { ok: true };
}
