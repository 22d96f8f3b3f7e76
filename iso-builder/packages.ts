/**
 * What goes into the Debian root and the key its cache is kept under: the same list, suite and
 * mirrors give the same key, so a warm build skips mmdebstrap entirely.
 */
import { createHash } from 'node:crypto';

export const SUITE = 'bookworm';

/** Installed without recommends on top of Debian's minbase. */
export const PACKAGES = [
  // kernel and the live system's boot
  'linux-image-amd64',
  'live-boot',
  'live-boot-initramfs-tools',
  'systemd-sysv',
  'udev',
  'kmod',
  // network: DHCP (networkd), DNS, clock
  'systemd-resolved',
  'systemd-timesyncd',
  'iproute2',
  'ca-certificates',
  // what the agent runs
  'pciutils',
  'wireguard-tools',
  'procps',
  // install to disk
  'util-linux',
  'gdisk',
  'parted',
  'dosfstools',
  'e2fsprogs',
  'grub-pc-bin',
  'grub-efi-amd64-bin',
  'grub2-common',
] as const;

/** Leave out manuals, docs (copyright files stay) and translations: about 60 MB less. */
export const DPKG_OPTIONS = [
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/locale/*',
  'path-exclude=/usr/share/info/*',
] as const;

export interface RootSpec {
  suite: string;
  mirror: string;
  securityMirror: string;
}

export function aptSources(spec: RootSpec): string[] {
  return [
    `deb ${spec.mirror} ${spec.suite} main`,
    `deb ${spec.mirror} ${spec.suite}-updates main`,
    `deb ${spec.securityMirror} ${spec.suite}-security main`,
  ];
}

export function mmdebstrapArgs(spec: RootSpec, target: string): string[] {
  return [
    '--variant=minbase',
    '--mode=root',
    '--aptopt=APT::Install-Recommends "false"',
    ...DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`),
    `--include=${PACKAGES.join(',')}`,
    // The apt lists and caches are not needed on the node.
    '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
    spec.suite,
    target,
    ...aptSources(spec),
  ];
}

/** The cache key of the Debian root: everything mmdebstrap is given. */
export function rootCacheKey(spec: RootSpec): string {
  const text = JSON.stringify({ args: mmdebstrapArgs(spec, 'TARGET'), v: 1 });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
