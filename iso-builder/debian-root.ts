/**
 * The Debian root: built once by mmdebstrap (with the NVIDIA module built by hooks/nvidia-module.sh)
 * and cached under its key; then inspected, so that a root without the driver's module or
 * nvidia-smi never becomes an ISO.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_DRIVER_BRANCH, firstSupportingBranch } from '../protocol/nvidia-driver.js';
import type { BuildOptions } from './options.js';
import { SUITE, mmdebstrapArgs } from './packages.js';
import { note, run } from './process.js';

export async function debianRoot(o: BuildOptions, key: string): Promise<string> {
  const cached = join(o.cacheDir, `root-${key}`);
  if (existsSync(join(cached, '.complete'))) {
    note(`cached: ${cached}`);
    return cached;
  }
  const tmp = `${cached}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(o.cacheDir, { recursive: true });
  const spec = { suite: SUITE, mirror: o.mirror, securityMirror: o.securityMirror };
  // With SOURCE_DATE_EPOCH, mmdebstrap (and dpkg, the module build) date everything from it.
  const epoch = process.env.SOURCE_DATE_EPOCH;
  // Generous: on a busy 2-core machine the module build alone took 19 minutes.
  await run('mmdebstrap', mmdebstrapArgs(spec, tmp), epoch ? { SOURCE_DATE_EPOCH: epoch } : {}, 120 * 60_000);
  await writeFile(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  await rm(cached, { recursive: true, force: true });
  await rename(tmp, cached);
  return cached;
}

export interface RootFacts {
  kernel: string;
  nvidia: {
    /** Debian version of nvidia-smi, e.g. 535.309.01-0+deb12u1. */
    package: string;
    modules: string[];
    nvidiaSmi: string;
    /** PCI device ids nvidia-detect lists for this branch that protocol/nvidia-driver-support.json lacks. */
    idsMissingFromTable: string[];
  };
}

/** What the root holds that the ISO depends on; throws, naming what is missing. */
export async function inspectRoot(root: string): Promise<RootFacts> {
  const kernels = await readdir(join(root, 'lib/modules'));
  if (kernels.length !== 1)
    throw new Error(`The Debian root has ${kernels.length} kernels (${kernels.join(', ')}).`);
  const kernel = kernels[0]!;
  const dkms = join(root, 'lib/modules', kernel, 'updates/dkms');
  const modules = existsSync(dkms) ? (await readdir(dkms)).sort() : [];
  if (!modules.includes('nvidia-current.ko'))
    throw new Error(
      `The Debian root has no NVIDIA kernel module for ${kernel} (${dkms}); see dist/iso-work/build.log.`,
    );
  const deps = await readFile(join(root, 'lib/modules', kernel, 'modules.dep'), 'utf8');
  if (!deps.includes('updates/dkms/nvidia-current.ko:'))
    throw new Error(`modules.dep of ${kernel} does not list the NVIDIA module: depmod did not run.`);
  const pkg = (await run('chroot', [root, 'dpkg-query', '-W', '-f', '${Version}', 'nvidia-smi'])).trim();
  const nvidiaSmi = (
    await run('chroot', [root, 'sh', '-c', 'readlink -f "$(command -v nvidia-smi)"'])
  ).trim();
  if (!nvidiaSmi) throw new Error('nvidia-smi is not on the image PATH.');
  const ids = (await readFile(join(root, 'usr/share/nvidia/nvidia.ids'), 'utf8'))
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => /^10de[0-9a-f]{4}$/.test(l));
  const idsMissingFromTable = ids
    .map((l) => `10de:${l.slice(4)}`)
    .filter((id) => firstSupportingBranch(id) !== IMAGE_DRIVER_BRANCH);
  return { kernel, nvidia: { package: pkg, modules, nvidiaSmi, idsMissingFromTable } };
}
