/**
 * The install, as data: the steps that partition a disk (GPT: BIOS boot, EFI system, root), make
 * the file systems, copy the running live system, move the node's state over, install GRUB for
 * BIOS and UEFI and write the boot files. Pure: the runner executes it, tests read it.
 */

export interface InstallInputs {
  /** The whole disk, e.g. /dev/sda or /dev/nvme0n1. */
  disk: string;
  /** The live system's pristine root (live-boot mounts the squashfs here). */
  sourceRoot: string;
  /** Where the new root is mounted while it is filled. */
  target: string;
  /** The agent's state directory (identity, node record) to carry over. */
  stateDir: string;
}

export type InstallStep =
  | { kind: 'run'; title: string; program: string; args: string[]; timeoutMs: number }
  /** Files whose text depends on what earlier steps made (UUIDs, kernel file names). */
  | { kind: 'boot-files'; title: string };

export const ROOT_LABEL = 'homenode-root';
/** FAT labels hold at most 11 characters. */
export const EFI_LABEL = 'HN-EFI';

/** /dev/sda + 2 → /dev/sda2; /dev/nvme0n1 + 2 → /dev/nvme0n1p2 (a name ending in a digit takes "p"). */
export function partitionPath(disk: string, n: number): string {
  return /\d$/.test(disk) ? `${disk}p${n}` : `${disk}${n}`;
}

const MIN = 60_000;

export function planInstall(i: InstallInputs): InstallStep[] {
  const efi = partitionPath(i.disk, 2);
  const root = partitionPath(i.disk, 3);
  const run = (title: string, program: string, args: string[], timeoutMs = MIN): InstallStep => ({
    kind: 'run',
    title,
    program,
    args,
    timeoutMs,
  });
  return [
    run('Erasing old partition tables', 'wipefs', ['--all', '--force', i.disk]),
    run('Creating partitions (GPT: BIOS boot, EFI system, root)', 'sgdisk', [
      '--zap-all',
      '--new=1:2048:+1M',
      '--typecode=1:ef02',
      '--change-name=1:bios-boot',
      '--new=2:0:+256M',
      '--typecode=2:ef00',
      '--change-name=2:EFI',
      '--new=3:0:0',
      '--typecode=3:8304',
      `--change-name=3:${ROOT_LABEL}`,
      i.disk,
    ]),
    run('Waiting for the new partitions', 'partx', ['--update', i.disk]),
    run('Waiting for the new partitions', 'udevadm', ['settle', '--timeout=30']),
    run('Formatting the EFI system partition (FAT32)', 'mkfs.vfat', ['-F', '32', '-n', EFI_LABEL, efi]),
    run('Formatting the system partition (ext4)', 'mkfs.ext4', ['-F', '-q', '-L', ROOT_LABEL, root], 5 * MIN),
    run('Mounting the new system', 'mkdir', ['-p', i.target]),
    run('Mounting the new system', 'mount', [root, i.target]),
    run('Mounting the new system', 'mkdir', ['-p', `${i.target}/boot/efi`]),
    run('Mounting the new system', 'mount', [efi, `${i.target}/boot/efi`]),
    run(
      'Copying the system (this takes a few minutes)',
      'cp',
      ['-a', `${i.sourceRoot}/.`, `${i.target}/`],
      30 * MIN,
    ),
    run("Moving this node's identity and state", 'mkdir', ['-p', `${i.target}${i.stateDir}`]),
    run("Moving this node's identity and state", 'cp', [
      '-a',
      `${i.stateDir}/.`,
      `${i.target}${i.stateDir}/`,
    ]),
    { kind: 'boot-files', title: 'Writing /etc/fstab and the boot menu' },
    run(
      'Installing the boot loader for BIOS',
      'grub-install',
      ['--target=i386-pc', `--boot-directory=${i.target}/boot`, i.disk],
      5 * MIN,
    ),
    run(
      'Installing the boot loader for UEFI',
      'grub-install',
      [
        '--target=x86_64-efi',
        `--efi-directory=${i.target}/boot/efi`,
        `--boot-directory=${i.target}/boot`,
        '--removable',
        '--no-nvram',
      ],
      5 * MIN,
    ),
    run('Writing everything to the disk', 'sync', []),
    run('Unmounting the new system', 'umount', ['--recursive', i.target]),
  ];
}

export interface BootFileInputs {
  rootUuid: string;
  efiUuid: string;
  /** File names in the new /boot, e.g. vmlinuz-6.1.0-31-amd64. */
  kernel: string;
  initrd: string;
}

/** /etc/fstab of the installed system. */
export function renderFstab(b: BootFileInputs): string {
  return [
    '# Written by the Home Node installer.',
    `UUID=${b.rootUuid} / ext4 errors=remount-ro 0 1`,
    `UUID=${b.efiUuid} /boot/efi vfat umask=0077 0 2`,
    '',
  ].join('\n');
}

/** The installed system's GRUB menu: one entry, consoles on the screen and the first serial port. */
export function renderGrubConfig(b: BootFileInputs): string {
  return [
    '# Written by the Home Node installer.',
    'serial --unit=0 --speed=115200',
    'terminal_input console serial',
    'terminal_output console serial',
    'set timeout=3',
    'set default=0',
    `search --no-floppy --fs-uuid --set=root ${b.rootUuid}`,
    "menuentry 'Home Node' {",
    `  linux /boot/${b.kernel} root=UUID=${b.rootUuid} ro console=tty1 console=ttyS0,115200`,
    `  initrd /boot/${b.initrd}`,
    '}',
    '',
  ].join('\n');
}

/** The newest kernel and its initrd among /boot's file names (version order), or undefined. */
export function pickKernel(names: readonly string[]): { kernel: string; initrd: string } | undefined {
  const versions = names
    .filter((n) => n.startsWith('vmlinuz-'))
    .map((n) => n.slice('vmlinuz-'.length))
    .filter((v) => names.includes(`initrd.img-${v}`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const v = versions.at(-1);
  return v === undefined ? undefined : { kernel: `vmlinuz-${v}`, initrd: `initrd.img-${v}` };
}

/** True when the kernel was started by live-boot (the USB stick), false on an installed system. */
export function isLiveBoot(cmdline: string): boolean {
  return cmdline.trim().split(/\s+/).includes('boot=live');
}
