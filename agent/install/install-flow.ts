/**
 * The install-to-disk step of `run` on the live medium: after enrollment, show the internal disks,
 * let the person pick one and type its name to confirm, run the install with progress, then restart
 * into the installed system (where the agent runs as a service with the same identity). Off the
 * live medium, or with nobody at the console, it does nothing and `run` goes on as the daemon.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { input } from '@inquirer/prompts';
import type { AgentContext } from '../cli/context.js';
import { createExec, type Exec } from '../system/exec.js';
import {
  classifyDisks,
  LIVE_MEDIUM_MOUNT,
  LSBLK_ARGS,
  MIN_INSTALL_DISK_BYTES,
  parseLsblk,
  renderDiskTable,
  type DiskChoice,
} from './disks.js';
import { isLiveBoot, planInstall } from './plan.js';
import { runInstall, type InstallRunDeps } from './run-install.js';

/** live-boot mounts the pristine system image here (the running root is an overlay on top of it). */
export const LIVE_ROOT = '/run/live/rootfs/filesystem.squashfs';
export const INSTALL_TARGET = '/mnt/homenode-target';
/** Exit code of `run` when installing to disk failed (the live system keeps working). */
export const INSTALL_FAILED = 8;

export type Ask = (message: string, validate: (text: string) => true | string) => Promise<string>;

export interface InstallFlowDeps extends InstallRunDeps {
  exec: Exec;
  readText: (path: string) => Promise<string | undefined>;
  ask: Ask;
  reboot: () => Promise<void>;
}

export function createInstallDeps(streams: {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  write: (text: string) => void;
}): InstallFlowDeps {
  return {
    exec: createExec(),
    readText: (path) => readFile(path, 'utf8').catch(() => undefined),
    readDir: (path) => readdir(path),
    writeFile: (path, text) => writeFile(path, text),
    mkdir: async (path) => void (await mkdir(path, { recursive: true })),
    write: streams.write,
    now: Date.now,
    ask: (message, validate) => input({ message, validate }, streams),
    reboot: async () => {
      await createExec()('/usr/sbin/reboot', [], { timeoutMs: 30_000 });
    },
  };
}

export type DiskAnswer = { pick: DiskChoice } | { skip: true } | { error: string };

/** The answer to "which disk": a number from the table, or "skip". */
export function parseDiskAnswer(text: string, choices: readonly DiskChoice[]): DiskAnswer {
  const t = text.trim().toLowerCase();
  if (t === 'skip') return { skip: true };
  const n = Number(t);
  const choice = t !== '' && Number.isInteger(n) ? choices[n - 1] : undefined;
  if (!choice) return { error: 'Type one of the numbers shown, or "skip".' };
  if (!choice.selectable)
    return { error: `${choice.disk.path} cannot be used: ${choice.reason ?? 'not selectable'}.` };
  return { pick: choice };
}

/** Undefined: go on (not live, skipped, nothing to install to); a number: exit with it. */
export async function installFlow(ctx: AgentContext, deps: InstallFlowDeps): Promise<number | undefined> {
  const cmdline = (await deps.readText('/proc/cmdline')) ?? '';
  if (!isLiveBoot(cmdline) || !ctx.interactive) return undefined;
  const say = (lines: readonly string[]) => deps.write(`${lines.join('\n')}\n`);
  const listed = await deps.exec('lsblk', [...LSBLK_ARGS], { timeoutMs: 30_000 });
  if (!listed.ok) {
    say([
      ctx.style.red(`Could not list the disks: ${listed.problem}.`),
      'Home Node keeps running from the USB stick.',
    ]);
    return undefined;
  }
  const choices = classifyDisks(parseLsblk(listed.stdout), {
    minBytes: MIN_INSTALL_DISK_BYTES,
    bootMount: LIVE_MEDIUM_MOUNT,
  });
  say([
    '',
    ctx.style.bold('Install Home Node to a disk'),
    '',
    'Disks in this machine:',
    ...renderDiskTable(choices),
    '',
  ]);
  if (!choices.some((c) => c.selectable)) {
    say([
      'No disk can take Home Node. Add an internal disk of at least 8 GB and restart from the USB stick.',
      'Until then this machine runs from the USB stick and forgets its enrollment when restarted.',
    ]);
    return undefined;
  }
  say([
    'Installing ERASES the chosen disk completely. The USB stick is not changed.',
    'Type "skip" to keep running from the USB stick instead (the enrollment is then lost on restart).',
  ]);
  const answer = await deps.ask('Disk number:', (t) => {
    const r = parseDiskAnswer(t, choices);
    return 'error' in r ? r.error : true;
  });
  const parsed = parseDiskAnswer(answer, choices);
  if (!('pick' in parsed)) return undefined;
  const picked = parsed.pick;
  const name = picked.disk.name;
  await deps.ask(`Type "${name}" to erase ${picked.disk.path} and install Home Node:`, (t) =>
    t.trim() === name ? true : `Type exactly "${name}" (or press Ctrl-C to stop; nothing was changed).`,
  );
  const inputs = {
    disk: picked.disk.path,
    sourceRoot: LIVE_ROOT,
    target: INSTALL_TARGET,
    stateDir: ctx.config.stateDir,
  };
  say(['', `Installing Home Node to ${picked.disk.path} ...`]);
  const outcome = await runInstall(planInstall(inputs), inputs, deps);
  if (!outcome.ok) {
    say([
      '',
      ctx.style.red(`The install failed while "${outcome.step}": ${outcome.problem}.`),
      `${picked.disk.path} may be left half-written; nothing else was changed and this live system still works.`,
      'Check the disk (cable, health), then restart the agent to try again or pick another disk.',
    ]);
    return INSTALL_FAILED;
  }
  say([
    '',
    ctx.style.green('Home Node is installed.'),
    'Remove the USB stick now. The machine then starts from the disk and reconnects on its own.',
  ]);
  await deps.ask('Press Enter to restart:', () => true);
  say(['Restarting ...']);
  await deps.reboot();
  return 0;
}
