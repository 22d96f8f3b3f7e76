/** `nvidia-smi` in query mode: the arguments we pass and a pure parser for what it prints. */
import { NVIDIA_PCI_VENDOR, lookupGpuModel } from '../../protocol/gpu.js';
import type { GpuFacts } from '../../protocol/hardware.js';

export const NVIDIA_SMI_FIELDS = [
  'index',
  'name',
  'uuid',
  'pci.bus_id',
  'pci.device_id',
  'memory.total',
  'driver_version',
] as const;

export const NVIDIA_SMI_ARGS = [
  `--query-gpu=${NVIDIA_SMI_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
] as const;

const MIB = 1024 * 1024;

/** `00000000:01:00.0` (nvidia-smi) or `01:00.0` (lspci) → `0000:01:00.0`. */
export function normalizeBusId(text: string): string {
  const trimmed = text.trim().toLowerCase();
  const match = /^(?:([0-9a-f]+):)?([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/.exec(trimmed);
  if (!match) return trimmed;
  const domain = (match[1] ?? '0').slice(-4).padStart(4, '0');
  return `${domain}:${match[2]}:${match[3]}.${match[4]}`;
}

/** `0x268410DE` (device id in the high half, vendor in the low half) → `10de:2684`. */
export function pciIdFromDeviceId(text: string): string | undefined {
  const match = /^0x([0-9a-f]{4})([0-9a-f]{4})$/i.exec(text.trim());
  if (!match) return undefined;
  return `${match[2]!.toLowerCase()}:${match[1]!.toLowerCase()}`;
}

/** One GPU per CSV line; lines that do not have the expected shape are skipped. */
export function parseNvidiaSmi(stdout: string): GpuFacts[] {
  const gpus: GpuFacts[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length < NVIDIA_SMI_FIELDS.length) continue;
    const [, name = '', uuid = '', busId = '', deviceId = '', memory = '', driver = ''] = cells;
    const pciId = pciIdFromDeviceId(deviceId) ?? `${NVIDIA_PCI_VENDOR}:0000`;
    const memoryMiB = Number(memory);
    const gpu: GpuFacts = {
      vendor: 'nvidia',
      model: lookupGpuModel(pciId)?.model ?? 'unknown',
      pciId,
      name,
      busId: normalizeBusId(busId),
    };
    if (Number.isFinite(memoryMiB) && memory !== '') gpu.memoryBytes = Math.round(memoryMiB * MIB);
    if (uuid && uuid !== '[N/A]') gpu.uuid = uuid;
    if (driver && driver !== '[N/A]') gpu.driver = driver;
    gpus.push(gpu);
  }
  return gpus;
}
