/** `lspci -nn`: a pure parser that finds display controllers and names them with Akash's table. */
import { AMD_PCI_VENDOR, NVIDIA_PCI_VENDOR, gpuVendorName, lookupGpuModel } from '../../protocol/gpu.js';
import type { GpuFacts } from '../../protocol/hardware.js';
import { normalizeBusId } from './nvidia-smi.js';

export const LSPCI_ARGS = ['-nn'] as const;

/** PCI classes of display controllers: VGA-compatible and 3D controllers. */
const DISPLAY_CLASSES = new Set(['0300', '0302']);
const GPU_VENDORS = new Set([NVIDIA_PCI_VENDOR, AMD_PCI_VENDOR]);

// 01:00.0 VGA compatible controller [0300]: NVIDIA Corporation AD102 [GeForce RTX 4090] [10de:2684] (rev a1)
const LINE =
  /^(\S+)\s+.*?\[([0-9a-f]{4})\]:\s+(.*?)\s*\[([0-9a-f]{4}):([0-9a-f]{4})\](?:\s+\(rev [0-9a-f]+\))?\s*$/i;

export interface PciDevice {
  busId: string;
  classId: string;
  description: string;
  pciId: string;
}

export function parseLspciLine(line: string): PciDevice | undefined {
  const match = LINE.exec(line.trim());
  if (!match) return undefined;
  const [, bus = '', classId = '', description = '', vendor = '', device = ''] = match;
  return {
    busId: normalizeBusId(bus),
    classId: classId.toLowerCase(),
    description,
    pciId: `${vendor.toLowerCase()}:${device.toLowerCase()}`,
  };
}

/** The GPUs (NVIDIA and AMD display controllers) that `lspci -nn` lists. No driver is implied. */
export function parseLspciGpus(stdout: string): GpuFacts[] {
  return stdout.split('\n').flatMap((line) => {
    const device = parseLspciLine(line);
    if (!device || !DISPLAY_CLASSES.has(device.classId)) return [];
    const vendorId = device.pciId.slice(0, 4);
    if (!GPU_VENDORS.has(vendorId)) return [];
    return [
      {
        vendor: gpuVendorName(vendorId) ?? vendorId,
        model: lookupGpuModel(device.pciId)?.model ?? 'unknown',
        pciId: device.pciId,
        name: marketingName(device.description),
        busId: device.busId,
      },
    ];
  });
}

/** `NVIDIA Corporation AD102 [GeForce RTX 4090]` → `GeForce RTX 4090`; otherwise the text as is. */
function marketingName(description: string): string {
  const bracketed = /\[([^\]]+)\]\s*$/.exec(description);
  return bracketed?.[1] ?? description;
}

/**
 * GPUs seen by the driver come first (they carry memory, UUID and driver version); lspci adds the
 * ones without a driver, matched by bus address.
 */
export function mergeGpus(fromDriver: readonly GpuFacts[], fromPci: readonly GpuFacts[]): GpuFacts[] {
  const seen = new Set(fromDriver.map((g) => g.busId));
  return [...fromDriver, ...fromPci.filter((g) => !seen.has(g.busId))];
}
