/**
 * The `gpu` verdict (pure): what nvidia-smi answered, the Xid events since the last audit, the
 * GPUs the node was approved with, and the thresholds. Every approved GPU present by UUID, the
 * driver loaded, no uncorrectable ECC errors, no hardware Xid, at idle neither hot nor throttled,
 * and a PCIe link wide and fast enough.
 */
import type { AuditThresholds } from '../../protocol/audit-policy.js';
import type { AuditMetrics } from '../../protocol/audit.js';
import { combine, verdict, type Problem, type Verdict } from './finding.js';
import { throttleFindings, type GpuHealth, type NvidiaAnswer } from './nvidia-audit.js';
import { HARDWARE_XIDS, summarizeXids, type XidEvent } from './xid.js';

export interface GpuAssessInput {
  answer: NvidiaAnswer;
  xids: { ok: true; events: XidEvent[] } | { ok: false; problem: string };
  expectGpus: readonly string[] | undefined;
  /** Where the expected list came from, e.g. "the GPUs this machine was approved with". */
  expectSource: string;
  requireGpu: boolean;
  /** A workload is using the GPUs: idle temperature and throttling are not judged. */
  busy: boolean;
  thresholds: AuditThresholds;
}

/** Above this utilisation a GPU is in use, and idle rules do not apply to it. */
export const IDLE_UTILIZATION_PCT = 10;

const RESEAT_FIX =
  'Switch the machine off at the wall, check that the graphics card is pushed fully into its slot and that every PCIe power cable is plugged in (no adapters or risers), then switch it on again.';

function driverProblem(answer: NvidiaAnswer): Problem | undefined {
  switch (answer.kind) {
    case 'missing':
      return {
        status: 'fail',
        summary: 'nvidia-smi is not installed',
        detail:
          'The audit checks the GPUs with nvidia-smi (Debian package nvidia-smi), which this machine does not have.',
        fix: 'Install it (as root: apt-get install nvidia-smi) or update Home Node: the installed system ships it.',
      };
    case 'no-driver':
      return {
        status: 'fail',
        summary: 'The NVIDIA driver is not running',
        detail: `nvidia-smi could not talk to the driver: ${answer.message}. Without the driver no workload can use the GPU.`,
        fix: 'Restart the machine. If this message comes back, the driver may not support this GPU or broke in an update: contact support (the server can send the right driver).',
      };
    case 'no-devices':
      return {
        status: 'fail',
        summary: 'The NVIDIA driver sees no GPU',
        detail:
          'The driver is loaded but answered "No devices were found": the card has lost power or fallen off the PCIe bus.',
        fix: RESEAT_FIX,
      };
    case 'failed':
      return {
        status: 'fail',
        summary: 'The GPUs could not be checked',
        detail: `nvidia-smi failed: ${answer.message}.`,
        fix: 'Restart the machine. If this message comes back, contact support with this message.',
      };
    case 'gpus':
      return undefined;
  }
}

function inventoryProblems(gpus: readonly GpuHealth[], input: GpuAssessInput): Problem[] {
  if (!input.expectGpus?.length) return [];
  const present = new Set(gpus.map((g) => g.uuid.toLowerCase()));
  const expected = new Set(input.expectGpus.map((u) => u.toLowerCase()));
  const problems: Problem[] = [];
  const missing = input.expectGpus.filter((u) => !present.has(u.toLowerCase()));
  if (missing.length)
    problems.push({
      status: 'fail',
      summary: `${missing.length} of ${input.expectGpus.length} GPUs missing: ${missing.join(', ')}`,
      detail: `Expected ${input.expectGpus.length} GPU${input.expectGpus.length > 1 ? 's' : ''} (${input.expectSource}); the driver now sees ${gpus.length}, and ${missing.join(', ')} is not among them.`,
      fix: RESEAT_FIX,
    });
  const added = gpus.filter((g) => !expected.has(g.uuid.toLowerCase()));
  if (added.length)
    problems.push({
      status: 'warn',
      summary: `${added.length} GPU${added.length > 1 ? 's' : ''} not seen before: ${added.map((g) => g.uuid).join(', ')}`,
      detail: `A GPU that was not expected (${input.expectSource}) is present: ${added.map((g) => `${g.name} at ${g.busId}`).join(', ')}.`,
      fix: 'Nothing to do if you fitted or swapped a card on purpose: the operations team reviews the change.',
    });
  return problems;
}

function healthProblems(g: GpuHealth, input: GpuAssessInput): Problem[] {
  const t = input.thresholds;
  const label = `GPU ${g.index} (${g.name})`;
  const problems: Problem[] = [];
  if (g.eccUncorrected !== undefined && g.eccUncorrected > t.gpuMaxUncorrectedEccErrors)
    problems.push({
      status: 'fail',
      summary: `${label} has ${g.eccUncorrected} uncorrectable memory errors`,
      detail: `Since the driver started, ${label} reported ${g.eccUncorrected} uncorrectable ECC errors in its memory: results computed on it cannot be trusted.`,
      fix: "Restart the machine to clear the count. If errors come back, the card's memory is failing: contact support.",
    });
  const idle = !input.busy && (g.utilizationPct ?? 0) <= IDLE_UTILIZATION_PCT;
  const throttle = g.throttleMask === undefined ? undefined : throttleFindings(g.throttleMask);
  if (idle && throttle?.thermal)
    problems.push({
      status: 'fail',
      summary: `${label} is overheating and slows itself down at idle`,
      detail: `${label} is thermally throttled while idle${g.tempC === undefined ? '' : ` at ${g.tempC} °C`}: its cooling is not working.`,
      fix: "Check that the card's fans spin, clean dust from the card and the case, make sure the case has air flowing in and out, then ask for a new check.",
    });
  else if (idle && g.tempC !== undefined && g.tempC > t.gpuMaxIdleTempC)
    problems.push({
      status: 'fail',
      summary: `${label} is too hot at idle: ${g.tempC} °C`,
      detail: `An idle GPU should stay below ${t.gpuMaxIdleTempC} °C; ${label} is at ${g.tempC} °C.`,
      fix: "Check that the card's fans spin, clean dust from the card and the case, and keep the machine in a ventilated place, then ask for a new check.",
    });
  if (idle && throttle?.hardware)
    problems.push({
      status: 'fail',
      summary: `${label} is slowed down by its hardware at idle`,
      detail: `${label} reports a hardware slowdown or power brake while idle: usually the power supply cannot deliver enough, or a power cable is loose.`,
      fix: 'Check every PCIe power cable on the card (no splitters), and that the power supply is strong enough for the card, then ask for a new check.',
    });
  else if (idle && throttle?.powerCap)
    problems.push({
      status: 'warn',
      summary: `${label} is power-limited at idle`,
      detail: `${label} reports that its power limit holds it back while idle, which is unusual.`,
      fix: 'If you lowered the power limit of the card, set it back to the default; otherwise nothing to do now.',
    });
  if (g.pcieWidth !== undefined && g.pcieWidth < t.gpuMinPcieWidth)
    problems.push({
      status: 'fail',
      summary: `${label} runs on a narrow PCIe link: x${g.pcieWidth}`,
      detail: `${label} is connected with ${g.pcieWidth} PCIe lane${g.pcieWidth > 1 ? 's' : ''}${g.pcieWidthMax ? ` of the ${g.pcieWidthMax} it supports` : ''}; at least x${t.gpuMinPcieWidth} is needed to load models and data fast enough.`,
      fix: 'Fit the card in the main (top, x16) slot of the mainboard without a riser or extension cable, and check it is pushed fully in.',
    });
  else if (g.pcieWidth !== undefined && g.pcieWidthMax !== undefined && g.pcieWidth < g.pcieWidthMax)
    problems.push({
      status: 'warn',
      summary: `${label} runs at PCIe x${g.pcieWidth} instead of x${g.pcieWidthMax}`,
      detail: `The link is narrower than the card supports, but wide enough (at least x${t.gpuMinPcieWidth}).`,
      fix: 'If the card is in a secondary slot or on a riser, move it to the main x16 slot when you can.',
    });
  if (g.pcieGenMax !== undefined && g.pcieGenMax < t.gpuMinPcieGen)
    problems.push({
      status: 'fail',
      summary: `${label} can only reach PCIe generation ${g.pcieGenMax}`,
      detail: `The link can reach at most PCIe gen ${g.pcieGenMax}; at least gen ${t.gpuMinPcieGen} is needed. The slot, a riser, or a BIOS setting limits it.`,
      fix: 'In the BIOS/UEFI setup set the PCIe slot speed to "Auto" (or the highest generation), and fit the card without a riser.',
    });
  return problems;
}

function xidProblems(input: GpuAssessInput): {
  problems: Problem[];
  note: string;
  all: number;
  hardware: number;
} {
  if (!input.xids.ok)
    return {
      problems: [],
      note: `Xid events could not be read (${input.xids.problem}).`,
      all: 0,
      hardware: 0,
    };
  const hardware = input.xids.events.filter((e) => HARDWARE_XIDS.has(e.code));
  const others = input.xids.events.filter((e) => !HARDWARE_XIDS.has(e.code));
  const note = others.length ? `Other driver events since the last audit: ${summarizeXids(others)}.` : '';
  const problems: Problem[] =
    hardware.length > input.thresholds.gpuMaxHardwareXidErrors
      ? [
          {
            status: 'fail',
            summary: `The GPU reported hardware errors: ${summarizeXids(hardware)}`,
            detail: `The NVIDIA driver logged ${hardware.length} hardware fault${hardware.length > 1 ? 's' : ''} since the last audit: ${summarizeXids(hardware)} at PCI ${[...new Set(hardware.map((e) => e.pci))].join(', ')}.`,
            fix: `${RESEAT_FIX} If the errors come back, the card may be failing: contact support.`,
          },
        ]
      : [];
  return { problems, note, all: input.xids.events.length, hardware: hardware.length };
}

export function assessGpu(input: GpuAssessInput): Verdict {
  const { answer } = input;
  const expecting = (input.expectGpus?.length ?? 0) > 0;
  if (answer.kind !== 'gpus' && !input.requireGpu && !expecting)
    return verdict(
      'pass',
      'No GPU: this machine offers CPU only',
      'The policy allows machines without a GPU.',
      '',
    );
  const broken = driverProblem(answer);
  const xid = xidProblems(input);
  if (broken) {
    const missing = expecting ? ` Expected ${input.expectGpus?.join(', ')}.` : '';
    const problem = { ...broken, detail: `${broken.detail}${missing}` };
    return combine([problem, ...xid.problems], '', xid.note, {
      gpuCount: 0,
      gpuXidErrors: xid.all,
      gpuHardwareXidErrors: xid.hardware,
    });
  }
  const gpus = answer.kind === 'gpus' ? answer.gpus : [];
  const inventory = inventoryProblems(gpus, input);
  const problems = [...inventory, ...gpus.flatMap((g) => healthProblems(g, input)), ...xid.problems];
  const temps = gpus.flatMap((g) => (g.tempC === undefined ? [] : [g.tempC]));
  const widths = gpus.flatMap((g) => (g.pcieWidth === undefined ? [] : [g.pcieWidth]));
  const gens = gpus.flatMap((g) => (g.pcieGenMax === undefined ? [] : [g.pcieGenMax]));
  const metrics: AuditMetrics = {
    gpuCount: gpus.length,
    ...(temps.length ? { gpuMaxTempC: Math.max(...temps) } : {}),
    ...(widths.length ? { gpuMinPcieWidth: Math.min(...widths) } : {}),
    ...(gens.length ? { gpuMinPcieGenMax: Math.min(...gens) } : {}),
    gpuUncorrectedEccErrors: gpus.reduce((sum, g) => sum + (g.eccUncorrected ?? 0), 0),
    gpuXidErrors: xid.all,
    gpuHardwareXidErrors: xid.hardware,
  };
  const first = gpus[0];
  const names = [...new Set(gpus.map((g) => g.name))].join(', ');
  const link =
    first?.pcieGenMax && first.pcieWidth ? `, PCIe gen ${first.pcieGenMax} x${first.pcieWidth}` : '';
  const temp = temps.length ? `, ${Math.max(...temps)} °C` : '';
  const summary = `${gpus.length} GPU${gpus.length > 1 ? 's' : ''}: ${names}, driver ${first?.driver ?? '?'}${temp}${link}`;
  const busyNote = input.busy
    ? 'A workload is using the GPU, so idle temperature and throttling were not judged.'
    : '';
  const expectNote =
    expecting && inventory.length === 0 ? `Every expected GPU is present (${input.expectSource}).` : '';
  const note = [expectNote, busyNote, xid.note].filter(Boolean).join(' ');
  return combine(problems, summary, note, metrics);
}
