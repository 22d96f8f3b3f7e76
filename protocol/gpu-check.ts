/**
 * The `gpu` check (DESIGN "Hardware checks"), pure: at least one supported NVIDIA GPU, and when
 * something stands in the way, which thing, in words a person can act on:
 * - no NVIDIA card at all (whether or not the driver is installed);
 * - a card the installed driver branch does not run (which branch it needs; the server delivers it
 *   after approval), from the table Debian's driver lists give (protocol/nvidia-driver.ts);
 * - a driver that did not load, or that is loaded but does not see the card.
 * The driver facts come from agent/probe/nvidia-smi.ts; without them (older agents) the model is
 * read from the PCI id alone, as before.
 */
import { NVIDIA_PCI_VENDOR, lookupGpuModel } from './gpu.js';
import type { Check, GpuFacts, HardwareFacts, NvidiaDriverFacts } from './hardware.js';
import { IMAGE_DRIVER_BRANCH, driverBranch, firstSupportingBranch, newerGpuName } from './nvidia-driver.js';
import type { Policy } from './policy.js';

type Finding = Omit<Check, 'id'>;
interface Problem {
  summary: string;
  detail: string;
  fix: string;
  /** The summary already names the GPUs (no need to list them again after it). */
  namesGpus?: boolean;
}

const SEATED_FIX =
  'Check that the NVIDIA card is seated and powered (PCIe power cables plugged in), then restart.';
const RESEAT_FIX =
  'Shut the machine down, check that the card sits firmly in its slot and that every PCIe power cable is plugged in, then start it again. If it stays like this, continue: the operations team sees this check.';
const SECURE_BOOT_FIX =
  "Turn Secure Boot off in the machine's UEFI (BIOS) setup, then restart. If the message stays, continue the setup: the operations team sees this check and can read the driver's messages in the diagnostics.";
const NEWER_DRIVER_FIX =
  'Nothing to do now: continue the setup. The newer driver comes from the Home Node server once the operations team approves this machine.';

const isNvidia = (g: GpuFacts) => g.pciId.toLowerCase().startsWith(`${NVIDIA_PCI_VENDOR}:`);
/** lspci's name for a card its pci.ids does not know yet: `NVIDIA Corporation Device [10de:2b85]`. */
const GENERIC_NAME = /^(NVIDIA Corporation )?Device( [0-9a-f]{4})?$/i;
const nameOf = (g: GpuFacts) =>
  newerGpuName(g.pciId) ??
  (g.name && !GENERIC_NAME.test(g.name) ? g.name : undefined) ??
  lookupGpuModel(g.pciId)?.model ??
  'NVIDIA GPU';
const labelOf = (g: GpuFacts) => `${nameOf(g)} (PCI id ${g.pciId})`;
const list = (gpus: readonly GpuFacts[]) => [...new Set(gpus.map(labelOf))].join(', ');
const quoted = (d: NvidiaDriverFacts) => (d.message ? ` ("${d.message}")` : '');
const driverName = (d: NvidiaDriverFacts) => `NVIDIA driver${d.version ? ` ${d.version}` : ''}`;

function noNvidiaGpu(hardware: HardwareFacts, policy: Policy): Finding {
  const others = hardware.gpus.filter((g) => !isNvidia(g));
  const driver = hardware.nvidiaDriver;
  const otherText = others.length
    ? ` Found ${others.map((g) => g.name ?? g.pciId).join(', ')}, which Home Node does not support yet.`
    : '';
  // nvidia-smi's own words help only when the driver answered; "couldn't communicate" misleads here.
  const said = driver?.state === 'no-devices' ? quoted(driver) : '';
  const driverText =
    driver && driver.state !== 'missing'
      ? ` The ${driverName(driver)} is installed, but there is no NVIDIA card on this machine's PCI bus for it to drive${said}.`
      : '';
  const detail = `Home Node needs at least one supported NVIDIA GPU.${otherText}${driverText}`;
  return policy.requireGpu
    ? { status: 'fail', summary: 'No NVIDIA GPU found', detail, fix: SEATED_FIX }
    : {
        status: 'warn',
        summary: 'No NVIDIA GPU found: this machine can offer CPU only',
        detail,
        fix: SEATED_FIX,
      };
}

/** GPUs on the PCI bus that the installed branch is not known to run, grouped by the branch they need. */
function newerDriverProblems(
  unseen: readonly GpuFacts[],
  driver: NvidiaDriverFacts,
): { problems: Problem[]; explained: Set<GpuFacts> } {
  const installed = driverBranch(driver.version) ?? IMAGE_DRIVER_BRANCH;
  const byBranch = new Map<number, GpuFacts[]>();
  for (const gpu of unseen) {
    const needed = firstSupportingBranch(gpu.pciId);
    if (needed !== undefined && needed > installed)
      byBranch.set(needed, [...(byBranch.get(needed) ?? []), gpu]);
  }
  const has = driver.version ? `NVIDIA driver ${driver.version}` : `this image's NVIDIA driver ${installed}`;
  const problems = [...byBranch].map(([branch, gpus]) => ({
    summary: `${[...new Set(gpus.map(nameOf))].join(', ')} needs NVIDIA driver ${branch} or newer`,
    detail: `This machine has ${has}, which does not support ${list(gpus)}: NVIDIA supports it from driver ${branch}. The Home Node server installs a newer driver on this machine after the operations team approves it.`,
    fix: NEWER_DRIVER_FIX,
    namesGpus: true,
  }));
  return { problems, explained: new Set([...byBranch.values()].flat()) };
}

/** The driver did not load, or does not see GPUs it should run. */
function driverProblem(unseen: readonly GpuFacts[], driver: NvidiaDriverFacts): Problem | undefined {
  if (!unseen.length) return undefined;
  const gpus = list(unseen);
  switch (driver.state) {
    case 'not-loaded':
      return {
        summary: 'The NVIDIA driver did not load',
        detail: `The ${driverName(driver)} is installed, but its kernel module is not loaded${quoted(driver)}. ${gpus} was recognised from its PCI id. The usual cause is Secure Boot, which refuses the driver's kernel module.`,
        fix: SECURE_BOOT_FIX,
      };
    case 'no-devices':
      return {
        summary: 'The NVIDIA driver does not see the GPU',
        detail: `The ${driverName(driver)} is loaded but finds no GPU${quoted(driver)}, while ${gpus} is on the PCI bus. The card may have dropped off the bus or be short of power.`,
        fix: RESEAT_FIX,
      };
    case 'failed':
      return {
        summary: `nvidia-smi failed${driver.exitCode !== undefined ? ` (exit ${driver.exitCode})` : ''}`,
        detail: `nvidia-smi could not read ${gpus}${quoted(driver)}.${driver.exitCode === 8 ? " nvidia-smi's exit code 8 means a card's external power cables are not properly attached." : ''}`,
        fix: RESEAT_FIX,
      };
    default:
      return undefined;
  }
}

function driverProblems(nvidia: readonly GpuFacts[], driver: NvidiaDriverFacts | undefined): Problem[] {
  // GPUs the driver lists carry its version; the others were found by lspci only.
  const unseen = nvidia.filter((g) => !g.driver);
  if (!driver || !unseen.length) return [];
  const newer = newerDriverProblems(unseen, driver);
  const rest = unseen.filter((g) => !newer.explained.has(g));
  const failure = driver.state === 'missing' ? undefined : driverProblem(rest, driver);
  return [...(failure ? [failure] : []), ...newer.problems];
}

export function checkGpu(hardware: HardwareFacts, policy: Policy): Finding {
  const nvidia = hardware.gpus.filter(isNvidia);
  if (nvidia.length === 0) return noNvidiaGpu(hardware, policy);
  const described = nvidia.map((gpu) => ({ gpu, info: lookupGpuModel(gpu.pciId) }));
  const names = described.map(({ gpu, info }) => info?.model ?? nameOf(gpu));
  const count = `${nvidia.length} NVIDIA GPU${nvidia.length > 1 ? 's' : ''}: ${[...new Set(names)].join(', ')}`;
  const problems = driverProblems(nvidia, hardware.nvidiaDriver);
  const unknown = described.filter(({ info }) => !info).map(({ gpu }) => gpu);
  const withoutDriver = nvidia.filter((g) => !g.driver);
  const unknownText = unknown.length
    ? `${list(unknown)} is not in Akash's GPU list, so it cannot be advertised by model yet.`
    : '';
  if (problems.length) {
    const [first] = problems as [Problem, ...Problem[]];
    return {
      status: 'warn',
      summary: first.namesGpus && problems.length === 1 ? first.summary : `${first.summary} (${count})`,
      detail: [...problems.map((p) => p.detail), unknownText].filter(Boolean).join(' '),
      fix: [...new Set(problems.map((p) => p.fix))].join(' '),
    };
  }
  const driverNote = withoutDriver.length
    ? ` ${withoutDriver.length} GPU(s) have no driver loaded yet; the model was read from the PCI id.`
    : '';
  if (unknown.length) {
    return {
      status: 'warn',
      summary: `${count} (model not recognised)`,
      detail: `${unknownText}${driverNote}`,
      fix: 'Nothing to do now: the operations team will review this GPU before approving the machine.',
    };
  }
  return {
    status: 'pass',
    summary: count,
    detail: `Recognised by Akash's GPU list.${driverNote}`.trim(),
    fix: '',
  };
}
