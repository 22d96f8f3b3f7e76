/**
 * The root as a squashfs, and the squashfs, kernel and GRUB as one hybrid BIOS/UEFI ISO
 * (grub-mkrescue, xorriso). With SOURCE_DATE_EPOCH, every date and the disk ids derive from it.
 */
import { cp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pickKernel } from '../agent/install/plan.js';
import { OptionError } from './options.js';
import { run } from './process.js';

export async function makeSquashfs(
  repo: string,
  root: string,
  iso: string,
  bootTimeout: number,
  env: Record<string, string>,
): Promise<void> {
  await rm(iso, { recursive: true, force: true });
  await mkdir(join(iso, 'live'), { recursive: true });
  await mkdir(join(iso, 'boot/grub'), { recursive: true });
  const kernel = pickKernel(await readdir(join(root, 'boot')));
  if (!kernel) throw new Error('The Debian root has no kernel in /boot.');
  await cp(join(root, 'boot', kernel.kernel), join(iso, 'live/vmlinuz'));
  await cp(join(root, 'boot', kernel.initrd), join(iso, 'live/initrd.img'));
  const grub = (await readFile(join(repo, 'iso-builder/grub-live.cfg'), 'utf8')).replace(
    '@TIMEOUT@',
    String(bootTimeout),
  );
  await writeFile(join(iso, 'boot/grub/grub.cfg'), grub);
  // zstd level 6: ~7 s instead of ~150 s at the default level, about 5 % larger.
  await run(
    'mksquashfs',
    [
      root,
      join(iso, 'live/filesystem.squashfs'),
      '-noappend',
      '-comp',
      'zstd',
      '-Xcompression-level',
      '6',
      '-quiet',
      '-no-progress',
    ],
    env,
  );
}

/**
 * With SOURCE_DATE_EPOCH: xorriso's volume dates, file dates and GPT disk GUID come from it, and
 * the EFI image's FAT serial (mformat picks a random one; grub-mkrescue cannot pass -N) too.
 */
async function reproducibleIsoSettings(work: string, epoch: string) {
  const seconds = Number(epoch);
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new OptionError(`SOURCE_DATE_EPOCH "${epoch}" is not a number of seconds.`);
  const stamp = `${new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}00`;
  const shim = join(work, 'shim');
  await mkdir(shim, { recursive: true });
  const serial = (seconds >>> 0).toString(16).padStart(8, '0');
  await writeFile(join(shim, 'mformat'), `#!/bin/sh\nexec /usr/bin/mformat -N ${serial} "$@"\n`, {
    mode: 0o755,
  });
  return {
    args: [
      ...['-volume_date', 'c', stamp, '-volume_date', 'm', stamp, '-volume_date', 'uuid', stamp],
      ...[
        '-volume_date',
        'all_file_dates',
        `=${seconds}`,
        '-boot_image',
        'any',
        'gpt_disk_guid=volume_date_uuid',
      ],
    ],
    env: { PATH: `${shim}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
  };
}

export async function makeIso(
  iso: string,
  out: string,
  work: string,
  epoch: string | undefined,
): Promise<void> {
  await rm(out, { force: true });
  const env: Record<string, string> = epoch ? { SOURCE_DATE_EPOCH: epoch } : {};
  const pinned = epoch ? await reproducibleIsoSettings(work, epoch) : { args: [], env: {} };
  await run('grub-mkrescue', ['-o', out, iso, '--', '-volid', 'HOMENODE', ...pinned.args], {
    ...env,
    ...pinned.env,
  });
}
