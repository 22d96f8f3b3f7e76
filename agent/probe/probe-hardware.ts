/**
 * The only caller of `systeminformation`, `nvidia-smi` and `lspci`: gathers this machine's facts.
 * Programs that are missing or fail become notes the person is shown, never exceptions.
 */
import { machine } from 'node:os';
import si from 'systeminformation';
import type { GpuFacts, HardwareFacts, NvidiaDriverFacts } from '../../protocol/hardware.js';
import type { ProbeNote } from './facts.js';
import { LSPCI_ARGS, mergeGpus, parseLspciGpus } from './lspci.js';
import {
  MODINFO_ARGS,
  NVIDIA_SMI_ARGS,
  classifyNvidiaSmi,
  parseModinfoVersion,
  parseNvidiaSmi,
} from './nvidia-smi.js';
import type { RunProgram } from './run-program.js';
import { hardwareFromSnapshot, type SystemSnapshot } from './system-facts.js';

export interface ProbedHardware {
  hardware: HardwareFacts;
  boardUuid: string;
  notes: ProbeNote[];
}

const NOTE_TEXT: Record<string, string> = {
  lspci: 'lspci (pciutils) was not found, so GPUs without a driver could not be listed.',
};

function toNote(result: Awaited<ReturnType<RunProgram>>): ProbeNote | undefined {
  if (result.outcome === 'ok') return undefined;
  if (result.outcome === 'missing') {
    return { program: result.program, outcome: 'missing', message: NOTE_TEXT[result.program] ?? '' };
  }
  return {
    program: result.program,
    outcome: 'failed',
    message: `${result.program} failed: ${result.message}`,
  };
}

export interface ProbedGpus {
  gpus: GpuFacts[];
  /** What nvidia-smi said about the driver (the gpu check explains it; no note needed). */
  nvidiaDriver: NvidiaDriverFacts;
  notes: ProbeNote[];
}

/**
 * nvidia-smi initialises every GPU when persistence mode is off (seconds each on a big machine) and,
 * with no card, tries to load the module first: it gets longer than the other probes.
 */
export const GPU_PROBE_TIMEOUT_MS = 30_000;

export async function probeGpus(run: RunProgram): Promise<ProbedGpus> {
  const slow = { timeoutMs: GPU_PROBE_TIMEOUT_MS };
  const [smi, pci] = await Promise.all([
    run('nvidia-smi', NVIDIA_SMI_ARGS, slow),
    run('lspci', LSPCI_ARGS, slow),
  ]);
  const fromDriver = smi.outcome === 'ok' ? parseNvidiaSmi(smi.stdout) : [];
  const fromPci = pci.outcome === 'ok' ? parseLspciGpus(pci.stdout) : [];
  const nvidiaDriver = classifyNvidiaSmi(smi, fromDriver);
  // Installed but not answering: the module on disk still says which driver this is.
  if (smi.outcome === 'failed') {
    const version = parseModinfoVersion(await run('modinfo', MODINFO_ARGS));
    if (version) nvidiaDriver.version = version;
  }
  const notes = [toNote(pci)].filter((n): n is ProbeNote => n !== undefined);
  return { gpus: mergeGpus(fromDriver, fromPci), nvidiaDriver, notes };
}

async function systemSnapshot(): Promise<SystemSnapshot> {
  const [cpu, mem, blockDevices, interfaces, defaultInterface, os, system] = await Promise.all([
    si.cpu(),
    si.mem(),
    si.blockDevices(),
    si.networkInterfaces(),
    si.networkInterfaceDefault(),
    si.osInfo(),
    si.system(),
  ]);
  return {
    machine: machine(),
    cpu,
    memTotal: mem.total,
    blockDevices,
    interfaces: Array.isArray(interfaces) ? interfaces : [interfaces],
    defaultInterface,
    os,
    system,
  };
}

export async function probeHardware(run: RunProgram): Promise<ProbedHardware> {
  const [snapshot, { gpus, nvidiaDriver, notes }] = await Promise.all([systemSnapshot(), probeGpus(run)]);
  return {
    hardware: { ...hardwareFromSnapshot(snapshot, gpus), nvidiaDriver },
    boardUuid: snapshot.system.uuid,
    notes,
  };
}
