import { describe, expect, it } from 'vitest';
import {
  classifyDisks,
  DiskListError,
  formatBytes,
  LIVE_MEDIUM_MOUNT,
  MIN_INSTALL_DISK_BYTES,
  parseLsblk,
  renderDiskTable,
} from '../../agent/install/disks.js';

const GB = 1000 ** 3;
const dev = (name: string, size: number, extra: Record<string, unknown> = {}) => ({
  name,
  path: `/dev/${name}`,
  size,
  model: null,
  type: 'part',
  rm: false,
  ro: false,
  tran: null,
  mountpoints: [null],
  fstype: null,
  label: null,
  ...extra,
});

/** A machine booted from a USB stick: an internal SSD with Windows, the stick, a DVD drive, a tiny NVMe. */
function setup() {
  const lsblk = {
    blockdevices: [
      dev('loop0', 412 * 1e6, { type: 'loop', mountpoints: ['/run/live/rootfs/filesystem.squashfs'] }),
      dev('sda', 500 * GB, {
        type: 'disk',
        model: 'Samsung SSD 870 EVO 500GB ',
        tran: 'sata',
        children: [
          dev('sda1', 0.1 * GB, { fstype: 'vfat', label: 'SYSTEM' }),
          dev('sda2', 499.9 * GB, { fstype: 'ntfs', label: 'Windows' }),
        ],
      }),
      dev('sdb', 16 * GB, {
        type: 'disk',
        model: 'SanDisk Ultra',
        rm: true,
        tran: 'usb',
        children: [
          dev('sdb1', 0.4 * GB, { fstype: 'iso9660', label: 'HOMENODE', mountpoints: [LIVE_MEDIUM_MOUNT] }),
        ],
      }),
      dev('sr0', 1024 ** 3, { type: 'rom', rm: true }),
      dev('nvme0n1', 4 * GB, { type: 'disk', model: 'TINY NVMe', tran: 'nvme' }),
      dev('zram0', 0, { type: 'disk' }),
    ],
  };
  return { text: JSON.stringify(lsblk) };
}

describe('parseLsblk', () => {
  it('keeps whole disks with their partitions and leaves out loops, ROMs and RAM disks', () => {
    const disks = parseLsblk(setup().text);
    expect(disks.map((d) => d.path)).toEqual(['/dev/sda', '/dev/sdb', '/dev/nvme0n1']);
    expect(disks[0]).toMatchObject({
      model: 'Samsung SSD 870 EVO 500GB',
      sizeBytes: 500 * GB,
      removable: false,
    });
    expect(disks[0]!.partitions.map((p) => [p.path, p.fstype, p.label])).toEqual([
      ['/dev/sda1', 'vfat', 'SYSTEM'],
      ['/dev/sda2', 'ntfs', 'Windows'],
    ]);
    expect(disks[1]!.partitions[0]!.mountpoints).toEqual([LIVE_MEDIUM_MOUNT]);
  });

  it('accepts the older lsblk forms ("1"/"0" flags, sizes as strings, no mountpoints)', () => {
    const text = JSON.stringify({
      blockdevices: [{ name: 'vda', size: '17179869184', type: 'disk', rm: '0', ro: '0' }],
    });
    expect(parseLsblk(text)).toEqual([
      expect.objectContaining({
        path: '/dev/vda',
        sizeBytes: 17179869184,
        removable: false,
        model: 'unknown model',
      }),
    ]);
  });

  it('refuses output that is not lsblk JSON', () => {
    expect(() => parseLsblk('NAME SIZE')).toThrow(DiskListError);
    expect(() => parseLsblk('{"devices":[]}')).toThrow(/unexpected shape/);
  });
});

describe('classifyDisks', () => {
  const rules = { minBytes: MIN_INSTALL_DISK_BYTES, bootMount: LIVE_MEDIUM_MOUNT };

  it('never lists the boot medium, shows small disks as not selectable, offers the internal disk', () => {
    const choices = classifyDisks(parseLsblk(setup().text), rules);
    expect(choices.map((c) => [c.disk.path, c.selectable, c.reason])).toEqual([
      ['/dev/sda', true, null],
      ['/dev/nvme0n1', false, 'too small (needs at least 8.6 GB)'],
    ]);
  });

  it('does not offer a disk that is mounted or read-only', () => {
    const [mounted, readOnly] = classifyDisks(
      [
        { ...parseLsblk(setup().text)[0]!, mountpoints: ['/srv'] },
        { ...parseLsblk(setup().text)[0]!, path: '/dev/sdc', readOnly: true },
      ],
      rules,
    );
    expect(mounted!.reason).toBe('in use (mounted at /srv)');
    expect(readOnly!.reason).toBe('read-only');
  });

  it('renders a numbered table with sizes, models, partitions and the reason a disk is not selectable', () => {
    const table = renderDiskTable(classifyDisks(parseLsblk(setup().text), rules)).join('\n');
    expect(table).toContain('1)  /dev/sda        500 GB  Samsung SSD 870 EVO 500GB');
    expect(table).toContain('2 partition(s): sda1 100 MB vfat "SYSTEM", sda2 500 GB ntfs "Windows"');
    expect(table).toContain('Not selectable: too small (needs at least 8.6 GB).');
    expect(table).not.toContain('2)');
  });

  it('formats sizes the way disks are sold', () => {
    expect([formatBytes(512), formatBytes(1.5e9), formatBytes(2e12)]).toEqual(['512 B', '1.5 GB', '2.0 TB']);
  });
});
