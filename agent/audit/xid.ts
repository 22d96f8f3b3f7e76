/**
 * NVIDIA Xid events from the kernel log (`dmesg --time-format iso`), pure: the driver writes
 * `NVRM: Xid (PCI:0000:01:00): 79, pid=…, GPU has fallen off the bus.` Some codes mean the
 * hardware is at fault (bus, memory, firmware); most others are a program's own error.
 */

export const DMESG_ARGS = ['--time-format', 'iso'] as const;

/**
 * Xid codes NVIDIA documents as hardware, driver-firmware or memory faults (not an application
 * bug): 48 double-bit ECC, 61/62 internal micro-controller, 63/64 ECC page retirement, 74 NVLink,
 * 79 fallen off the bus, 92 high single-bit ECC rate, 94/95 contained/uncontained ECC, 119/120 GSP.
 */
export const HARDWARE_XIDS: ReadonlySet<number> = new Set([48, 61, 62, 63, 64, 74, 79, 92, 94, 95, 119, 120]);

const XID_MEANING: Readonly<Record<number, string>> = {
  48: 'a double-bit memory (ECC) error',
  61: 'an internal micro-controller error',
  62: 'an internal micro-controller halt',
  63: 'memory page retirement (ECC)',
  64: 'memory page retirement failed (ECC)',
  74: 'an NVLink error',
  79: 'the GPU has fallen off the bus',
  92: 'many correctable memory errors',
  94: 'a contained memory (ECC) error',
  95: 'an uncontained memory (ECC) error',
  119: 'the GPU firmware (GSP) stopped answering',
  120: 'a GPU firmware (GSP) error',
};

export interface XidEvent {
  at: number;
  /** `0000:01:00` as the driver prints it (bus address without the function). */
  pci: string;
  code: number;
}

const LINE =
  /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})[,.](\d+)([+-]\d{2}:?\d{2}|Z)\s+NVRM: Xid \(PCI:([0-9a-fA-F:.]+)\):\s*(\d+)\b/;

/** Xid events newer than `since` (ms), oldest first. */
export function parseXidEvents(dmesg: string, since: number | undefined): XidEvent[] {
  const events: XidEvent[] = [];
  for (const line of dmesg.split('\n')) {
    const m = LINE.exec(line.trim());
    if (!m) continue;
    const [, seconds, fraction = '0', zone = 'Z', pci = '', code = ''] = m;
    const at = Date.parse(`${seconds}.${fraction.padEnd(3, '0').slice(0, 3)}${zone}`);
    if (!Number.isFinite(at) || (since !== undefined && at <= since)) continue;
    events.push({ at, pci: pci.toLowerCase(), code: Number(code) });
  }
  return events;
}

export function describeXid(code: number): string {
  return XID_MEANING[code] ?? 'an error the driver reported (often a program fault, not the hardware)';
}

/** `79 ×2 (the GPU has fallen off the bus)`, one entry per code, for details. */
export function summarizeXids(events: readonly XidEvent[]): string {
  const counts = new Map<number, number>();
  for (const e of events) counts.set(e.code, (counts.get(e.code) ?? 0) + 1);
  return [...counts]
    .map(([code, n]) => `Xid ${code}${n > 1 ? ` ×${n}` : ''} (${describeXid(code)})`)
    .join(', ');
}
