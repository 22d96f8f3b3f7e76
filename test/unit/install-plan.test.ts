import { describe, expect, it } from 'vitest';
import { parseDiskAnswer } from '../../agent/install/install-flow.js';
import { classifyDisks, type Disk } from '../../agent/install/disks.js';
import {
  isLiveBoot,
  partitionPath,
  pickKernel,
  planInstall,
  renderFstab,
  renderGrubConfig,
} from '../../agent/install/plan.js';

const inputs = {
  disk: '/dev/nvme0n1',
  sourceRoot: '/run/live/rootfs/filesystem.squashfs',
  target: '/mnt/homenode-target',
  stateDir: '/var/lib/homenode',
};

describe('planInstall', () => {
  it('partitions GPT with BIOS boot, EFI and root, then formats the partitions it made', () => {
    const steps = planInstall(inputs);
    const sgdisk = steps.find((s) => s.kind === 'run' && s.program === 'sgdisk');
    expect(sgdisk).toMatchObject({
      args: expect.arrayContaining([
        '--zap-all',
        '--typecode=1:ef02',
        '--typecode=2:ef00',
        '--new=3:0:0',
        '/dev/nvme0n1',
      ]),
    });
    const runs = steps.flatMap((s) => (s.kind === 'run' ? [[s.program, ...s.args].join(' ')] : []));
    expect(runs).toContain('mkfs.vfat -F 32 -n HN-EFI /dev/nvme0n1p2');
    expect(runs).toContain('mkfs.ext4 -F -q -L homenode-root /dev/nvme0n1p3');
    expect(runs).toContain('mount /dev/nvme0n1p3 /mnt/homenode-target');
  });

  it('copies the system, then the state, writes boot files, installs GRUB for BIOS and UEFI, unmounts last', () => {
    const titles = planInstall(inputs).map((s) =>
      s.kind === 'run' ? `${s.program} ${s.args.join(' ')}` : s.kind,
    );
    const at = (prefix: string) => titles.findIndex((t) => t.startsWith(prefix));
    expect(at('cp -a /run/live/rootfs/filesystem.squashfs/. /mnt/homenode-target/')).toBeLessThan(
      at('cp -a /var/lib/homenode/. /mnt/homenode-target/var/lib/homenode/'),
    );
    expect(at('boot-files')).toBeLessThan(at('grub-install --target=i386-pc'));
    expect(titles).toContain(
      'grub-install --target=i386-pc --boot-directory=/mnt/homenode-target/boot /dev/nvme0n1',
    );
    expect(titles).toContain(
      'grub-install --target=x86_64-efi --efi-directory=/mnt/homenode-target/boot/efi --boot-directory=/mnt/homenode-target/boot --removable --no-nvram',
    );
    expect(titles.at(-1)).toBe('umount --recursive /mnt/homenode-target');
  });

  it('names partitions as the kernel does', () => {
    expect([
      partitionPath('/dev/sda', 3),
      partitionPath('/dev/nvme0n1', 3),
      partitionPath('/dev/mmcblk0', 1),
    ]).toEqual(['/dev/sda3', '/dev/nvme0n1p3', '/dev/mmcblk0p1']);
  });
});

describe('boot files', () => {
  const files = {
    rootUuid: 'r-uuid',
    efiUuid: 'E-FI',
    kernel: 'vmlinuz-6.1.0-31-amd64',
    initrd: 'initrd.img-6.1.0-31-amd64',
  };

  it('mounts root and the EFI partition by UUID', () => {
    expect(renderFstab(files)).toContain(
      'UUID=r-uuid / ext4 errors=remount-ro 0 1\nUUID=E-FI /boot/efi vfat umask=0077 0 2',
    );
  });

  it('boots the installed root without boot=live, on the screen and the serial console', () => {
    const cfg = renderGrubConfig(files);
    expect(cfg).toContain('search --no-floppy --fs-uuid --set=root r-uuid');
    expect(cfg).toContain(
      'linux /boot/vmlinuz-6.1.0-31-amd64 root=UUID=r-uuid ro console=tty1 console=ttyS0,115200',
    );
    expect(cfg).not.toContain('boot=live');
  });

  it('picks the newest kernel that has an initrd', () => {
    expect(
      pickKernel([
        'vmlinuz-6.1.0-9-amd64',
        'initrd.img-6.1.0-9-amd64',
        'vmlinuz-6.1.0-31-amd64',
        'initrd.img-6.1.0-31-amd64',
        'vmlinuz-6.2.0-1-amd64',
      ]),
    ).toEqual({ kernel: 'vmlinuz-6.1.0-31-amd64', initrd: 'initrd.img-6.1.0-31-amd64' });
    expect(pickKernel(['config-6.1.0-31-amd64'])).toBeUndefined();
  });

  it('tells the live medium from the installed system by the kernel command line', () => {
    expect(isLiveBoot('BOOT_IMAGE=/live/vmlinuz boot=live console=tty1 console=ttyS0,115200\n')).toBe(true);
    expect(isLiveBoot('BOOT_IMAGE=/boot/vmlinuz-6.1.0-31-amd64 root=UUID=x ro noboot=live')).toBe(false);
  });
});

describe('parseDiskAnswer', () => {
  const disk = (path: string, sizeBytes: number): Disk => ({
    name: path.slice(5),
    path,
    sizeBytes,
    model: 'm',
    removable: false,
    readOnly: false,
    transport: null,
    partitions: [],
    mountpoints: [],
  });
  const choices = classifyDisks([disk('/dev/sda', 500e9), disk('/dev/sdb', 1e9)], {
    minBytes: 8e9,
    bootMount: '/run/live/medium',
  });

  it('takes a listed number, "skip", and refuses the rest with a reason', () => {
    expect(parseDiskAnswer(' 1 ', choices)).toEqual({ pick: choices[0] });
    expect(parseDiskAnswer('SKIP', choices)).toEqual({ skip: true });
    expect(parseDiskAnswer('2', choices)).toEqual({
      error: '/dev/sdb cannot be used: too small (needs at least 8.0 GB).',
    });
    expect(parseDiskAnswer('', choices)).toEqual({ error: 'Type one of the numbers shown, or "skip".' });
    expect(parseDiskAnswer('3', choices)).toEqual({ error: 'Type one of the numbers shown, or "skip".' });
  });
});
