/**
 * Preflight assessment (DESIGN.md "Hardware checks"): pure functions from recorded facts and a
 * policy to the checks a person reads. The agent runs `assessPreflight` before enrolling; the server
 * runs `assessHardware` (the same rules, minus what only the node can see) on every enrollment.
 */
import { classifyIpv4, parseCidr, parseIpv4, rangesOverlap } from './cidr.js';
import { checkGpu } from './gpu-check.js';
import type { Check, CheckStatus, ConnectivityFacts, HardwareFacts, PreflightFacts } from './hardware.js';
import type { CheckId, Policy } from './policy.js';

export { checkGpu };

type Finding = Omit<Check, 'id'>;

const pass = (summary: string, detail = ''): Finding => ({ status: 'pass', summary, detail, fix: '' });
const warn = (summary: string, detail: string, fix: string): Finding => ({
  status: 'warn',
  summary,
  detail,
  fix,
});
const fail = (summary: string, detail: string, fix: string): Finding => ({
  status: 'fail',
  summary,
  detail,
  fix,
});

export function formatBytes(bytes: number): string {
  const gib = bytes / 1024 ** 3;
  if (gib >= 1024) return `${(gib / 1024).toFixed(1)} TiB`;
  if (gib >= 1) return `${gib.toFixed(gib >= 100 ? 0 : 1)} GiB`;
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}

const X86_64 = new Set(['x86_64', 'amd64', 'x64', 'x86-64']);
const ARM = /^(aarch64|arm64|armv?\d*[a-z]*|arm)$/i;
const X86_32 = /^(i[3-6]86|x86|ia32)$/i;

export function checkArch(hardware: HardwareFacts): Finding {
  const arch = hardware.cpu.arch.trim();
  if (X86_64.has(arch.toLowerCase())) return pass(`64-bit x86 processor (${arch})`, hardware.cpu.model);
  const fixOther = 'Use a machine with a 64-bit Intel or AMD processor (x86-64).';
  if (ARM.test(arch)) {
    return fail(
      'ARM processors are not supported yet',
      `This machine has an ARM processor (${arch}). Home Node currently runs only on 64-bit Intel or AMD (x86-64) machines.`,
      fixOther,
    );
  }
  if (X86_32.test(arch)) {
    return fail(
      '32-bit processors are not supported',
      `This machine runs in 32-bit mode (${arch}). Home Node needs a 64-bit Intel or AMD (x86-64) processor.`,
      fixOther,
    );
  }
  return fail(
    'This processor type is not supported',
    `The processor reports "${arch}", which is not x86-64.`,
    fixOther,
  );
}

export function checkMemory(hardware: HardwareFacts, policy: Policy): Finding {
  const have = hardware.memory.totalBytes;
  // Firmware and integrated graphics reserve some memory, so allow 5% below the nominal size.
  if (have >= policy.minMemoryBytes * 0.95) return pass(`${formatBytes(have)} of memory`);
  return fail(
    `Not enough memory: ${formatBytes(have)}`,
    `Home Node needs at least ${formatBytes(policy.minMemoryBytes)} of memory (RAM); this machine has ${formatBytes(have)}.`,
    `Add memory so the machine has at least ${formatBytes(policy.minMemoryBytes)}, then restart.`,
  );
}

export function checkDisk(hardware: HardwareFacts, policy: Policy): Finding {
  const internal = hardware.disks.filter((d) => !d.removable);
  const largest = internal.reduce<HardwareFacts['disks'][number] | undefined>(
    (best, d) => (!best || d.sizeBytes > best.sizeBytes ? d : best),
    undefined,
  );
  if (!largest) {
    return fail(
      'No internal disk found',
      'Home Node installs itself to an internal disk, and none was found (USB sticks do not count).',
      `Connect an internal disk of at least ${formatBytes(policy.minDiskBytes)} (SATA or NVMe), then restart.`,
    );
  }
  if (largest.sizeBytes >= policy.minDiskBytes) {
    return pass(`Install disk: ${largest.name} (${formatBytes(largest.sizeBytes)})`, largest.model);
  }
  return fail(
    `Disk too small: ${formatBytes(largest.sizeBytes)}`,
    `The largest internal disk (${largest.name}, ${formatBytes(largest.sizeBytes)}) is smaller than the ${formatBytes(policy.minDiskBytes)} Home Node needs.`,
    `Fit an internal disk of at least ${formatBytes(policy.minDiskBytes)}, then restart.`,
  );
}

export function checkCpu(hardware: HardwareFacts, policy: Policy): Finding {
  const { cores, threads, model } = hardware.cpu;
  if (cores >= policy.minCores) return pass(`${cores} cores, ${threads} threads`, model);
  return fail(
    `Not enough processor cores: ${cores}`,
    `Home Node needs at least ${policy.minCores} processor cores; this machine has ${cores} (${model}).`,
    `Use a machine with at least ${policy.minCores} cores.`,
  );
}

export function checkPrivateNetwork(hardware: HardwareFacts, policy: Policy): Finding {
  const routed = hardware.network.interfaces.filter((i) => i.defaultRoute);
  if (routed.length === 0) {
    return fail(
      'No network connection',
      'No network interface holds a default route, so this machine cannot reach the internet.',
      'Plug an Ethernet cable from this machine into your home router, wait a few seconds, then restart.',
    );
  }
  const addresses = routed.flatMap((i) =>
    i.ipv4.flatMap((text) => {
      const range = parseCidr(text);
      const address = parseIpv4(text.split('/')[0] ?? '');
      return range && address !== undefined
        ? [{ iface: i.name, text, range, kind: classifyIpv4(address) }]
        : [];
    }),
  );
  if (addresses.length === 0) {
    return fail(
      'No IPv4 address on the network connection',
      `${routed.map((i) => i.name).join(', ')} has no IPv4 address. Home Node needs a home router that hands out addresses (DHCP).`,
      'Check that your router has DHCP enabled and the cable is plugged in, then restart.',
    );
  }
  const clusterRanges = policy.clusterCidrs.flatMap((c) => parseCidr(c) ?? []);
  const privateOnes = addresses.filter((a) => a.kind === 'private');
  for (const a of privateOnes) {
    const clash = clusterRanges.find((r) => rangesOverlap(r, a.range));
    if (clash) {
      return fail(
        'Your home network clashes with the cluster network',
        `Your home network ${a.range.text} (on ${a.iface}) overlaps the cluster's network ${clash.text}, so traffic could not be routed.`,
        'Change your router\'s LAN range to a different private range such as 192.168.1.0/24 (in the router\'s "LAN" or "DHCP" settings), then restart this machine.',
      );
    }
  }
  if (privateOnes[0]) {
    return pass(`Private network ${privateOnes[0].range.text} on ${privateOnes[0].iface}`);
  }
  const cgnat = addresses.find((a) => a.kind === 'cgnat');
  if (cgnat) {
    const clash = clusterRanges.find((r) => rangesOverlap(r, cgnat.range));
    return warn(
      'Your network uses a carrier-grade NAT address',
      `${cgnat.iface} has ${cgnat.text}, a carrier-grade NAT (100.64.0.0/10) address rather than a home-router address.` +
        (clash ? ` It also falls inside the cluster's network ${clash.text}.` : ''),
      "Connect this machine to a home router that gives private addresses (192.168.x.x or 10.x.x.x), not directly to the provider's modem.",
    );
  }
  const first = addresses[0]!;
  return warn(
    'This machine is directly on the internet',
    `${first.iface} has ${first.text}, which is not a private address: the machine is not behind a home router.`,
    'Connect this machine behind a home router (NAT) so it is not exposed directly to the internet.',
  );
}

export function checkVirtualization(hardware: HardwareFacts): Finding {
  const v = hardware.virtualization.trim().toLowerCase();
  if (v === '' || v === 'none') return pass('Running on real hardware');
  return warn(
    `Running inside a virtual machine (${hardware.virtualization})`,
    'Home Node is meant for physical machines: GPUs passed into a VM often perform worse and fail more.',
    'Boot the Home Node USB stick directly on the machine instead of inside a virtual machine.',
  );
}

export function checkServer(conn: ConnectivityFacts): Finding {
  const host = safeHost(conn.serverUrl);
  if (conn.captivePortal) {
    return fail(
      'This network shows a sign-in page (captive portal)',
      `Requests to ${host} are answered by a sign-in or welcome page${conn.captivePortalLocation ? ` (${conn.captivePortalLocation})` : ''} instead of the Home Node server. Hotel, café and some ISP networks do this.`,
      'Sign in to the network from another device on it, or connect this machine to your own home router, then restart.',
    );
  }
  if (!conn.dnsOk) {
    return fail(
      'Cannot look up the Home Node server',
      `The name ${host} could not be resolved (DNS).${conn.error ? ` ${conn.error}` : ''}`,
      'Check that the router is connected to the internet (try a website on another device), then restart.',
    );
  }
  if (!conn.reachable) {
    return fail(
      'Cannot reach the Home Node server',
      `${conn.serverUrl} did not answer.${conn.error ? ` ${conn.error}` : ''}`,
      'Check the internet connection and any firewall on your router; if it still fails, the server may be down: try again in a few minutes.',
    );
  }
  return pass(`Reached ${host}`);
}

export function checkClock(conn: ConnectivityFacts, policy: Policy): Finding {
  const skew = conn.clockSkewSeconds;
  if (skew === null) {
    return warn(
      'Could not compare the clock with the server',
      'The server did not tell its time, so the clock could not be checked.',
      'Make sure the machine can reach the server; the clock is checked again when it does.',
    );
  }
  const off = Math.abs(skew);
  if (off <= policy.maxClockSkewSeconds)
    return pass(`Clock is within ${Math.max(1, Math.ceil(off))} s of the server`);
  const amount = off >= 120 ? `${Math.round(off / 60)} minutes` : `${Math.round(off)} seconds`;
  return fail(
    `The clock is ${amount} ${skew > 0 ? 'behind' : 'ahead of'} the server`,
    `Secure connections need the clock within ${policy.maxClockSkewSeconds} s of the server's; this one is ${amount} off.`,
    'Set the correct date and time in the BIOS/UEFI setup (in UTC), then restart. Home Node keeps it right afterwards.',
  );
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Apply the policy's severity overrides to a check's natural result. */
export function applySeverity(id: CheckId, finding: Finding, policy: Policy): Check {
  const override = policy.severity[id];
  const status: CheckStatus = finding.status === 'pass' || !override ? finding.status : override;
  return { id, ...finding, status };
}

/** The checks the server can re-evaluate from reported hardware alone. */
export function assessHardware(hardware: HardwareFacts, policy: Policy): Check[] {
  const findings: [CheckId, Finding][] = [
    ['arch', checkArch(hardware)],
    ['gpu', checkGpu(hardware, policy)],
    ['memory', checkMemory(hardware, policy)],
    ['disk', checkDisk(hardware, policy)],
    ['cpu', checkCpu(hardware, policy)],
    ['private-network', checkPrivateNetwork(hardware, policy)],
    ['virtualization', checkVirtualization(hardware)],
  ];
  return findings.map(([id, f]) => applySeverity(id, f, policy));
}

/** Every check in DESIGN's table; `server` and `clock` only when connectivity was probed. */
export function assessPreflight(facts: PreflightFacts, policy: Policy): Check[] {
  const checks = assessHardware(facts.hardware, policy);
  if (facts.connectivity) {
    const index = checks.findIndex((c) => c.id === 'virtualization');
    checks.splice(
      index,
      0,
      applySeverity('server', checkServer(facts.connectivity), policy),
      applySeverity('clock', checkClock(facts.connectivity, policy), policy),
    );
  }
  return checks;
}

export function hasFailure(checks: readonly Check[]): boolean {
  return checks.some((c) => c.status === 'fail');
}
