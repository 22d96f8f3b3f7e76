/**
 * `nvidia-smi` in query mode: the arguments we pass, a pure parser for what it prints, and what its
 * answer (or failure) says about the driver.
 */
import { NVIDIA_PCI_VENDOR, lookupGpuModel } from '../../protocol/gpu.js';
import type { GpuFacts, NvidiaDriverFacts } from '../../protocol/hardware.js';
import type { ProgramResult } from './run-program.js';

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

/** Debian's name for the image's NVIDIA kernel module (nvidia-kernel-support's modprobe config). */
export const MODINFO_ARGS = ['-F', 'version', 'nvidia-current'] as const;

/** nvidia-smi's return codes (its man page, "RETURN VALUE"). */
const NO_DEVICES_EXIT = 6;
const NOT_LOADED_EXIT = 9;

const clip = (text: string) => text.trim().slice(0, 512);

/**
 * What nvidia-smi's answer says about the driver. The texts are the 535 binary's own ("No devices
 * were found"; "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. ..."),
 * both printed on stdout; the exit codes are from its man page.
 */
export function classifyNvidiaSmi(result: ProgramResult, gpus: readonly GpuFacts[]): NvidiaDriverFacts {
  if (result.outcome === 'missing') return { state: 'missing' };
  if (result.outcome === 'ok') {
    const version = gpus.find((g) => g.driver)?.driver;
    const loaded: NvidiaDriverFacts = { state: gpus.length ? 'loaded' : 'no-devices' };
    if (version && DRIVER_VERSION.test(version)) loaded.version = version;
    return loaded;
  }
  const facts: NvidiaDriverFacts = { state: 'failed', message: clip(result.message) };
  if (result.exitCode !== undefined) facts.exitCode = result.exitCode;
  if (result.exitCode === NO_DEVICES_EXIT || /No devices were found/i.test(result.message))
    facts.state = 'no-devices';
  else if (
    result.exitCode === NOT_LOADED_EXIT ||
    /couldn't communicate with the NVIDIA driver/i.test(result.message)
  )
    facts.state = 'not-loaded';
  return facts;
}

const DRIVER_VERSION = /^[0-9]{2,4}(\.[0-9]{1,4}){1,2}$/;

/** `modinfo -F version nvidia-current` → `535.309.01`, or undefined for anything else. */
export function parseModinfoVersion(result: ProgramResult): string | undefined {
  if (result.outcome !== 'ok') return undefined;
  const line = result.stdout.trim().split('\n')[0]?.trim() ?? '';
  return DRIVER_VERSION.test(line) ? line : undefined;
}
