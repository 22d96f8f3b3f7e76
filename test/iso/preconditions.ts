/**
 * What `npm run test:iso` needs before it starts anything: QEMU, the OVMF firmware, root (the test
 * builds its ISO) and the ISO build tools. Checked up front so that a missing program fails the run
 * at once with the command that installs it, instead of a spawn error nobody sees and a long wait.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { missingPackages } from '../../iso-builder/tools.js';

export const QEMU = 'qemu-system-x86_64';
export const OVMF_CODE = '/usr/share/OVMF/OVMF_CODE_4M.fd';
export const OVMF_VARS = '/usr/share/OVMF/OVMF_VARS_4M.fd';

export interface HostFacts {
  /** `$PATH` as the test will spawn QEMU with it. */
  path: string;
  /** The effective user id (undefined where the platform has none). */
  uid: number | undefined;
  ovmfCode?: string;
  ovmfVars?: string;
  /** Debian packages of ISO build tools that are missing (iso-builder/tools.ts). */
  missingBuildTools: readonly string[];
}

/** The first executable named `program` in `path`, or undefined. */
export function findOnPath(program: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Every problem in words, and the one install command; empty when the test can run. */
export function isoTestProblems(host: HostFacts): { problems: string[]; install: string[] } {
  const problems: string[] = [];
  const install: string[] = [];
  if (!findOnPath(QEMU, host.path)) {
    problems.push(`${QEMU} is not installed (or not on PATH); the ISO is booted in it.`);
    install.push('qemu-system-x86');
  }
  for (const file of [host.ovmfCode ?? OVMF_CODE, host.ovmfVars ?? OVMF_VARS]) {
    if (existsSync(file)) continue;
    problems.push(`${file} is missing: the UEFI boots use this OVMF firmware.`);
    if (!install.includes('ovmf')) install.push('ovmf');
  }
  if (host.missingBuildTools.length) {
    problems.push(`The ISO build tools are missing (${host.missingBuildTools.join(', ')}).`);
    install.push(...host.missingBuildTools);
  }
  if (host.uid !== undefined && host.uid !== 0)
    problems.push('The test builds its ISO first, which needs root: run it as root (sudo npm run test:iso).');
  return { problems, install };
}

export function describeProblems({ problems, install }: ReturnType<typeof isoTestProblems>): string {
  const lines = ['npm run test:iso cannot start on this machine:', ...problems.map((p) => `  - ${p}`)];
  if (install.length)
    lines.push(
      'Install what is missing with:',
      `  apt-get install -y --no-install-recommends ${install.join(' ')}`,
    );
  return lines.join('\n');
}

/** Throws the description when anything is missing (vitest shows it and stops the run). */
export async function assertIsoTestHost(): Promise<void> {
  const found = isoTestProblems({
    path: process.env.PATH ?? '',
    uid: process.getuid?.(),
    missingBuildTools: await missingPackages(),
  });
  if (found.problems.length) throw new Error(describeProblems(found));
}
