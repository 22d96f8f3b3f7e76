/**
 * What goes into the Debian root and the key its cache is kept under: the same list, suite, mirrors
 * and hook give the same key, so a warm build skips mmdebstrap (and the NVIDIA module build) entirely.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export const SUITE = 'bookworm';

/**
 * Debian's NVIDIA driver is in non-free (the driver), non-free-firmware (its GSP firmware) and
 * contrib (the glue packages that depend on non-free ones, e.g. nvidia-modprobe). Only the image's
 * apt sources name them; the build host's stay as they are.
 */
export const COMPONENTS = ['main', 'contrib', 'non-free', 'non-free-firmware'] as const;

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
  // the NVIDIA driver 535 (its kernel module is built by hooks/nvidia-module.sh): nvidia-smi and
  // NVML, the CUDA driver library that containers get from the host, the modprobe config (nouveau
  // blacklisted), the GSP firmware, the persistence daemon, and nvidia-detect's PCI id lists
  'nvidia-smi',
  'libnvidia-ml1',
  'libcuda1',
  'libnvidia-cfg1',
  'nvidia-kernel-support',
  'firmware-nvidia-gsp',
  'nvidia-persistenced',
  'nvidia-detect',
  // the audit's benchmarks (`agent audit`)
  'fio',
  'sysbench',
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

/** The customize hook that builds the NVIDIA kernel module (run by mmdebstrap with the root as $1). */
export const NVIDIA_HOOK = join(import.meta.dirname, 'hooks/nvidia-module.sh');

export interface RootSpec {
  suite: string;
  mirror: string;
  securityMirror: string;
}

export function aptSources(spec: RootSpec): string[] {
  const components = COMPONENTS.join(' ');
  return [
    `deb ${spec.mirror} ${spec.suite} ${components}`,
    `deb ${spec.mirror} ${spec.suite}-updates ${components}`,
    `deb ${spec.securityMirror} ${spec.suite}-security ${components}`,
  ];
}

export function mmdebstrapArgs(spec: RootSpec, target: string, nvidiaHook = NVIDIA_HOOK): string[] {
  return [
    '--variant=minbase',
    '--mode=root',
    '--aptopt=APT::Install-Recommends "false"',
    ...DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`),
    `--include=${PACKAGES.join(',')}`,
    // Built while the apt lists are still there (the next hook removes them).
    `--customize-hook=sh ${nvidiaHook} "$1"`,
    // The apt lists and caches are not needed on the node.
    '--customize-hook=rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin',
    spec.suite,
    target,
    ...aptSources(spec),
  ];
}

/**
 * The cache key of the Debian root: everything mmdebstrap is given, with the hook by its content
 * (not its path, so that two clones of the same commit share the cache).
 */
export function rootCacheKey(spec: RootSpec, nvidiaHookText: string): string {
  const text = JSON.stringify({ args: mmdebstrapArgs(spec, 'TARGET', 'HOOK'), hook: nvidiaHookText, v: 2 });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
