/**
 * The GPU health query the audit sends to `nvidia-smi` and pure parsers of what it prints: one CSV
 * row per GPU, the "No devices were found" answer, the driver that cannot be reached, and the
 * throttle-reason bit mask (`clocks_throttle_reasons.active`, still accepted by drivers that call
 * it `clocks_event_reasons`).
 */

export const AUDIT_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'driver_version',
  'temperature.gpu',
  'utilization.gpu',
  'ecc.errors.uncorrected.volatile.total',
  'clocks_throttle_reasons.active',
  'pcie.link.gen.current',
  'pcie.link.gen.max',
  'pcie.link.width.current',
  'pcie.link.width.max',
] as const;

export const NVIDIA_AUDIT_ARGS = [
  `--query-gpu=${AUDIT_QUERY_FIELDS.join(',')}`,
  '--format=csv,noheader,nounits',
] as const;

export interface GpuHealth {
  index: number;
  uuid: string;
  name: string;
  busId: string;
  driver: string;
  tempC: number | undefined;
  utilizationPct: number | undefined;
  /** Undefined where the card has no ECC or it is off (`[N/A]`, e.g. GeForce cards). */
  eccUncorrected: number | undefined;
  throttleMask: bigint | undefined;
  pcieGen: number | undefined;
  pcieGenMax: number | undefined;
  pcieWidth: number | undefined;
  pcieWidthMax: number | undefined;
}

/** `[N/A]`, `[Not Supported]`, `N/A`, empty: no value. */
function field(value: string | undefined): string | undefined {
  const v = (value ?? '').trim();
  return v === '' || /^\[?(N\/A|Not Supported|Unknown Error|Insufficient Permissions)\]?$/i.test(v)
    ? undefined
    : v;
}

function numeric(value: string | undefined): number | undefined {
  const v = field(value);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function mask(value: string | undefined): bigint | undefined {
  const v = field(value);
  return v && /^0x[0-9a-fA-F]{1,16}$/.test(v) ? BigInt(v) : undefined;
}

/** `00000000:01:00.0` → `0000:01:00.0`. */
export function shortBusId(busId: string): string {
  const m = /^(?:[0-9a-fA-F]{4})?([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7])$/.exec(busId.trim());
  return m?.[1]?.toLowerCase() ?? busId.trim().toLowerCase();
}

/** Rows of the audit query; lines that are not rows (warnings, blank) are ignored. */
export function parseGpuHealth(stdout: string): GpuHealth[] {
  const gpus: GpuHealth[] = [];
  for (const line of stdout.split('\n')) {
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== AUDIT_QUERY_FIELDS.length) continue;
    const [index, uuid, name, busId, driver, temp, util, ecc, throttle, gen, genMax, width, widthMax] = cells;
    const i = Number(index);
    if (!Number.isInteger(i) || !uuid?.startsWith('GPU-')) continue;
    gpus.push({
      index: i,
      uuid,
      name: name ?? '',
      busId: shortBusId(busId ?? ''),
      driver: field(driver) ?? '',
      tempC: numeric(temp),
      utilizationPct: numeric(util),
      eccUncorrected: numeric(ecc),
      throttleMask: mask(throttle),
      pcieGen: numeric(gen),
      pcieGenMax: numeric(genMax),
      pcieWidth: numeric(width),
      pcieWidthMax: numeric(widthMax),
    });
  }
  return gpus;
}

export type NvidiaAnswer =
  | { kind: 'gpus'; gpus: GpuHealth[] }
  | { kind: 'no-devices' }
  | { kind: 'no-driver'; message: string }
  | { kind: 'missing' }
  | { kind: 'failed'; message: string };

/** What nvidia-smi's exit and output mean (exit 6 "No devices were found", 9 no driver). */
export function classifyNvidiaAnswer(result: {
  ok: boolean;
  missing: boolean;
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
  problem: string;
}): NvidiaAnswer {
  if (result.missing) return { kind: 'missing' };
  const text = `${result.stdout}\n${result.stderr}`;
  if (/No devices were found/i.test(text)) return { kind: 'no-devices' };
  if (
    result.exitCode === 9 ||
    /couldn't communicate with the NVIDIA driver|driver\/library version mismatch/i.test(text)
  ) {
    const line =
      text
        .split('\n')
        .find((l) => /NVIDIA|driver/i.test(l))
        ?.trim() ?? result.problem;
    return { kind: 'no-driver', message: line };
  }
  if (!result.ok) return { kind: 'failed', message: result.problem };
  const gpus = parseGpuHealth(result.stdout);
  return gpus.length ? { kind: 'gpus', gpus } : { kind: 'no-devices' };
}

/** Throttle reasons (nvml `clocksEventReasons`): the bits that matter for a GPU at idle. */
export const THROTTLE = {
  gpuIdle: 0x1n,
  applicationsClocks: 0x2n,
  swPowerCap: 0x4n,
  hwSlowdown: 0x8n,
  syncBoost: 0x10n,
  swThermalSlowdown: 0x20n,
  hwThermalSlowdown: 0x40n,
  hwPowerBrakeSlowdown: 0x80n,
  displayClocks: 0x100n,
} as const;

export interface ThrottleFindings {
  thermal: boolean;
  hardware: boolean;
  powerCap: boolean;
}

export function throttleFindings(value: bigint): ThrottleFindings {
  const has = (bit: bigint) => (value & bit) !== 0n;
  return {
    thermal: has(THROTTLE.swThermalSlowdown) || has(THROTTLE.hwThermalSlowdown),
    hardware: has(THROTTLE.hwSlowdown) || has(THROTTLE.hwPowerBrakeSlowdown),
    powerCap: has(THROTTLE.swPowerCap),
  };
}
