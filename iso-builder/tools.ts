/** The host programs the build needs and the Debian packages that provide them. */
import { access } from 'node:fs/promises';

export const REQUIRED_TOOLS = [
  { path: '/usr/bin/mmdebstrap', pkg: 'mmdebstrap' },
  { path: '/usr/bin/mksquashfs', pkg: 'squashfs-tools' },
  { path: '/usr/bin/xorriso', pkg: 'xorriso' },
  { path: '/usr/bin/grub-mkrescue', pkg: 'grub-common' },
  { path: '/usr/lib/grub/i386-pc/boot_hybrid.img', pkg: 'grub-pc-bin' },
  { path: '/usr/lib/grub/x86_64-efi/moddep.lst', pkg: 'grub-efi-amd64-bin' },
  { path: '/usr/bin/mformat', pkg: 'mtools' },
  { path: '/usr/sbin/mkfs.vfat', pkg: 'dosfstools' },
  { path: '/usr/bin/systemctl', pkg: 'systemd' },
] as const;

/** The packages to `apt-get install` for the tools that are missing (empty when all are there). */
export async function missingPackages(
  exists: (path: string) => Promise<boolean> = (p) =>
    access(p).then(
      () => true,
      () => false,
    ),
): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of REQUIRED_TOOLS) if (!(await exists(tool.path))) missing.push(tool.pkg);
  return [...new Set(missing)];
}
