/**
 * The machine's disks as `lsblk --json` reports them, parsed into plain values, and which of them
 * the system may be installed to: internal, writable, big enough and not the medium it booted from.
 */
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';

export const LSBLK_ARGS = [
  '--json',
  '--bytes',
  '--output',
  'NAME,PATH,SIZE,MODEL,TYPE,RM,RO,TRAN,MOUNTPOINTS,FSTYPE,LABEL',
] as const;

/** The system needs about 1.5 GB; leave room for the k3s images and the state. */
export const MIN_INSTALL_DISK_BYTES = 8 * 1024 ** 3;

/** Where live-boot mounts the medium it booted from. */
export const LIVE_MEDIUM_MOUNT = '/run/live/medium';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Flag = Type.Union([Type.Boolean(), Type.String(), Type.Null()]);

const deviceFields = {
  name: Type.String(),
  path: Type.Optional(Nullable(Type.String())),
  size: Type.Optional(Type.Union([Type.Number(), Type.String(), Type.Null()])),
  model: Type.Optional(Nullable(Type.String())),
  type: Type.Optional(Nullable(Type.String())),
  rm: Type.Optional(Flag),
  ro: Type.Optional(Flag),
  tran: Type.Optional(Nullable(Type.String())),
  mountpoints: Type.Optional(Type.Union([Type.Array(Nullable(Type.String())), Type.Null()])),
  fstype: Type.Optional(Nullable(Type.String())),
  label: Type.Optional(Nullable(Type.String())),
};
/** Disks with their partitions: one level of children is all the installer looks at. */
const LsblkDeviceSchema = Type.Object({
  ...deviceFields,
  children: Type.Optional(Type.Array(Type.Object(deviceFields))),
});
const LsblkOutput = Compile(Type.Object({ blockdevices: Type.Array(LsblkDeviceSchema) }));

export interface Partition {
  path: string;
  sizeBytes: number;
  fstype: string | null;
  label: string | null;
  mountpoints: string[];
}

export interface Disk {
  name: string;
  path: string;
  sizeBytes: number;
  model: string;
  removable: boolean;
  readOnly: boolean;
  transport: string | null;
  partitions: Partition[];
  mountpoints: string[];
}

export class DiskListError extends Error {
  override readonly name = 'DiskListError';
}

const flag = (v: boolean | string | null | undefined) => v === true || v === '1';
const bytes = (v: number | string | null | undefined) => (typeof v === 'number' ? v : Number(v ?? 0) || 0);
const mounts = (v: (string | null)[] | null | undefined) => (v ?? []).filter((m): m is string => !!m);

/** `lsblk --json --bytes` output to whole disks with their partitions (loops, ROMs, RAM disks left out). */
export function parseLsblk(text: string): Disk[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new DiskListError('lsblk did not print JSON.');
  }
  if (!LsblkOutput.Check(value)) throw new DiskListError('lsblk printed JSON of an unexpected shape.');
  return value.blockdevices
    .filter((d) => d.type === 'disk' && !/^(zram|ram|loop)/.test(d.name))
    .map((d) => ({
      name: d.name,
      path: d.path ?? `/dev/${d.name}`,
      sizeBytes: bytes(d.size),
      model: d.model?.trim() || 'unknown model',
      removable: flag(d.rm),
      readOnly: flag(d.ro),
      transport: d.tran ?? null,
      mountpoints: mounts(d.mountpoints),
      partitions: (d.children ?? []).map((c) => ({
        path: c.path ?? `/dev/${c.name}`,
        sizeBytes: bytes(c.size),
        fstype: c.fstype ?? null,
        label: c.label ?? null,
        mountpoints: mounts(c.mountpoints),
      })),
    }));
}

export interface DiskChoice {
  disk: Disk;
  selectable: boolean;
  /** Why the disk cannot be chosen (shown next to it); null when it can. */
  reason: string | null;
}

export interface DiskRules {
  minBytes: number;
  /** Mount point of the boot medium; the disk holding it is never offered. */
  bootMount: string;
}

function allMounts(disk: Disk): string[] {
  return [...disk.mountpoints, ...disk.partitions.flatMap((p) => p.mountpoints)];
}

/** Every disk, each marked as selectable or not, with the reason a person reads. */
export function classifyDisks(disks: readonly Disk[], rules: DiskRules): DiskChoice[] {
  return disks
    .filter(
      (disk) => !allMounts(disk).some((m) => m === rules.bootMount || m.startsWith(`${rules.bootMount}/`)),
    )
    .map((disk) => {
      let reason: string | null = null;
      if (disk.readOnly) reason = 'read-only';
      else if (disk.sizeBytes < rules.minBytes)
        reason = `too small (needs at least ${formatBytes(rules.minBytes)})`;
      else if (allMounts(disk).length > 0) reason = `in use (mounted at ${allMounts(disk)[0] ?? ''})`;
      return { disk, selectable: reason === null, reason };
    });
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value >= 100 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit] ?? 'B'}`;
}

/** The table the person chooses from: number, device, size, model, partitions, and why not. */
export function renderDiskTable(choices: readonly DiskChoice[]): string[] {
  const lines: string[] = [];
  choices.forEach((c, i) => {
    const number = c.selectable ? `${i + 1})` : '  ';
    const parts = c.disk.partitions.length
      ? `${c.disk.partitions.length} partition(s): ${c.disk.partitions
          .map(
            (p) =>
              `${p.path.replace(/^\/dev\//, '')} ${formatBytes(p.sizeBytes)}${p.fstype ? ` ${p.fstype}` : ''}${p.label ? ` "${p.label}"` : ''}`,
          )
          .join(', ')}`
      : 'empty (no partitions)';
    const kind = c.disk.removable ? ', removable' : '';
    lines.push(
      `  ${number.padEnd(4)}${c.disk.path.padEnd(14)}${formatBytes(c.disk.sizeBytes).padStart(8)}  ${c.disk.model}${kind}`,
    );
    lines.push(`        ${parts}`);
    if (c.reason) lines.push(`        Not selectable: ${c.reason}.`);
  });
  return lines;
}
