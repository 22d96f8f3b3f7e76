/**
 * Pure mapping from what `systeminformation` reports to the hardware facts of the enrollment body.
 * The shapes below are the subset of its answers we read, so tests can feed recorded values.
 */
import type { DiskFacts, GpuFacts, HardwareFacts, InterfaceFacts } from '../../protocol/hardware.js';

export interface SystemSnapshot {
  /** What `uname -m` prints. */
  machine: string;
  cpu: { manufacturer: string; brand: string; vendor: string; physicalCores: number; cores: number };
  memTotal: number;
  blockDevices: readonly {
    name: string;
    type: string;
    size: number;
    model: string;
    removable: boolean;
    protocol: string;
  }[];
  interfaces: readonly {
    iface: string;
    mac: string;
    ip4: string;
    ip4subnet: string;
    internal: boolean;
    virtual: boolean;
    type: string;
  }[];
  defaultInterface: string;
  os: { kernel: string; distro: string; release: string };
  system: { uuid: string; virtual: boolean; virtualHost?: string | undefined };
}

/** Devices that are not disks one could install to. */
const NOT_INSTALLABLE = /^(loop|ram|zram|sr|fd|dm-|md)/;

export function disksFromSnapshot(devices: SystemSnapshot['blockDevices']): DiskFacts[] {
  return devices
    .filter((d) => d.type === 'disk' && d.size > 0 && !NOT_INSTALLABLE.test(d.name))
    .map((d) => ({
      name: d.name,
      sizeBytes: d.size,
      model: d.model.trim(),
      removable: d.removable || d.protocol.toLowerCase() === 'usb',
    }));
}

/** `255.255.255.0` → 24; undefined for a mask that is not contiguous. */
export function maskToPrefix(mask: string): number | undefined {
  const parts = mask.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  const bits = parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? (bits.indexOf('0') === -1 ? 32 : bits.indexOf('0')) : undefined;
}

export function interfacesFromSnapshot(snapshot: SystemSnapshot): InterfaceFacts[] {
  return snapshot.interfaces
    .filter((n) => !n.internal)
    .map((n) => {
      const prefix = maskToPrefix(n.ip4subnet);
      return {
        name: n.iface,
        mac: n.mac.toLowerCase(),
        ipv4: n.ip4 ? [prefix === undefined ? n.ip4 : `${n.ip4}/${prefix}`] : [],
        defaultRoute: n.iface === snapshot.defaultInterface,
        virtual: n.virtual || n.type === 'virtual',
      };
    });
}

export function hardwareFromSnapshot(snapshot: SystemSnapshot, gpus: GpuFacts[]): HardwareFacts {
  const { cpu, os, system } = snapshot;
  return {
    cpu: {
      arch: snapshot.machine,
      vendor: cpu.vendor || cpu.manufacturer,
      model: `${cpu.manufacturer} ${cpu.brand}`.trim(),
      cores: cpu.physicalCores || cpu.cores,
      threads: cpu.cores,
    },
    memory: { totalBytes: snapshot.memTotal },
    disks: disksFromSnapshot(snapshot.blockDevices),
    gpus,
    network: { interfaces: interfacesFromSnapshot(snapshot) },
    os: { kernel: os.kernel, distro: `${os.distro} ${os.release}`.trim() },
    virtualization: system.virtual ? system.virtualHost || 'unknown hypervisor' : 'none',
  };
}
