/** Akash's PCI id → GPU model table (carried from shared/reference/akash-gpus.json) and lookups. */
import table from './akash-gpus.json' with { type: 'json' };

export const NVIDIA_PCI_VENDOR = '10de';
export const AMD_PCI_VENDOR = '1002';

export interface GpuModelInfo {
  vendor: string;
  /** Akash model name, e.g. `rtx4090`. */
  model: string;
  /** Akash attribute form of the interface: `pcie` or `sxm`. */
  interface: 'pcie' | 'sxm';
  /** Memory in Akash notation, e.g. `24Gi`. */
  memory: string;
}

interface TableDevice {
  name: string;
  interface: string;
  memory_size: string;
}
interface TableVendor {
  name: string;
  devices: Record<string, TableDevice>;
}
const VENDORS: Record<string, TableVendor> = table;

/** Look a PCI id (`10de:2684`, any case) up in Akash's table; undefined when it is not listed. */
export function lookupGpuModel(pciId: string): GpuModelInfo | undefined {
  const [vendorId = '', deviceId = ''] = pciId.toLowerCase().split(':');
  const vendor = VENDORS[vendorId];
  const device = vendor?.devices[deviceId];
  if (!vendor || !device) return undefined;
  return {
    vendor: vendor.name,
    model: device.name,
    interface: device.interface.toLowerCase().startsWith('sxm') ? 'sxm' : 'pcie',
    memory: device.memory_size,
  };
}

/** The vendor name for a PCI vendor id (`10de` → `nvidia`), or undefined. */
export function gpuVendorName(pciVendorId: string): string | undefined {
  return VENDORS[pciVendorId.toLowerCase()]?.name;
}

/** Bytes to Akash's memory notation, rounded to the nearest GiB (`25757220864` → `24Gi`). */
export function bytesToGi(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 3)}Gi`;
}
