/**
 * Quantities in an SDL, read as Akash reads them (akash-network/chain-sdk `go/sdl/units.go`, at
 * 55f1c68): CPU as a number of CPUs or `<n>m` millicpus; memory and storage sizes with decimal
 * (`k M G T P E`) or binary (`Ki Mi Gi Ti Pi Ei`) suffixes; GPU memory with binary suffixes only.
 * Each returns a string in words when the text is not a quantity.
 */

const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const BINARY: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const NUMBER = /^[0-9]+(?:\.[0-9]+)?$/;

export type Quantity = { ok: true; value: number } | { ok: false; problem: string };

function withSuffix(text: string, units: Record<string, number>, hint: string): Quantity {
  const suffix = Object.keys(units).find((s) => text.endsWith(s));
  const digits = suffix ? text.slice(0, -suffix.length) : text;
  if (!NUMBER.test(digits)) return { ok: false, problem: `"${text}" is not a size; ${hint}` };
  const value = Math.floor(Number(digits) * (suffix ? (units[suffix] ?? 1) : 1));
  if (!Number.isFinite(value)) return { ok: false, problem: `"${text}" is too large` };
  return { ok: true, value };
}

/** Memory or storage size in bytes (`512Mi`, `1G`, `1073741824`). */
export function parseByteSize(text: string): Quantity {
  return withSuffix(text, { ...BINARY, ...DECIMAL }, 'write a number with a unit such as 512Mi or 10Gi');
}

/** GPU memory in bytes; Akash accepts binary units only (`80Gi`, not `80G`). */
export function parseGpuMemory(text: string): Quantity {
  return withSuffix(text, BINARY, 'GPU memory takes binary units (Ki, Mi, Gi, Ti), e.g. 24Gi');
}

/** GPU memory in Akash's key notation: whole GiB, rounded down (`StringWithSuffix("Gi")`). */
export function gpuMemoryNotation(bytes: number): string {
  return `${Math.floor(bytes / 2 ** 30)}Gi`;
}

/** CPU units in millicpus (`0.5` → 500, `100m` → 100). */
export function parseCpuUnits(text: string): Quantity {
  if (/^[0-9]+m$/.test(text)) return { ok: true, value: Number(text.slice(0, -1)) };
  if (!NUMBER.test(text))
    return {
      ok: false,
      problem: `"${text}" is not a CPU amount; write a number of CPUs (0.5) or millicpus (500m)`,
    };
  return { ok: true, value: Math.floor(Number(text) * 1000) };
}
