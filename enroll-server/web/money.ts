/**
 * Money on the dashboard: the API sends integer strings of micro-USD (1 USD = 1,000,000 uusd).
 * Formatting and parsing use bigint only, never floating point. Pure.
 */
const MICRO = 1_000_000n;

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/**
 * `"12345678"` → `"$12.35"` (half away from zero at `decimals`), `"-500000"` → `"−$0.50"`.
 * `decimals` is 0–6; 6 shows the exact amount.
 */
export function formatUsd(uusd: string | bigint, decimals = 2): string {
  const value = typeof uusd === 'bigint' ? uusd : BigInt(uusd);
  const negative = value < 0n;
  let abs = negative ? -value : value;
  const drop = 10n ** BigInt(6 - decimals);
  if (drop > 1n) abs = ((abs + drop / 2n) / drop) * drop;
  const whole = abs / MICRO;
  const fraction = (abs % MICRO).toString().padStart(6, '0').slice(0, decimals);
  const text = `$${groupThousands(whole.toString())}${decimals > 0 ? `.${fraction}` : ''}`;
  return negative && abs !== 0n ? `−${text}` : text;
}

/** `"12.50"`, `"-3"`, `"$1,000.000001"` → micro-USD as a bigint; undefined when not a dollar amount. */
export function parseUsd(text: string): bigint | undefined {
  const match = /^\s*([-−+]?)\s*\$?\s*(\d{1,3}(?:,\d{3})+|\d+)?(?:\.(\d{0,6}))?\s*$/.exec(text);
  if (!match || (match[2] === undefined && !match[3])) return undefined;
  const whole = BigInt((match[2] ?? '0').replaceAll(',', ''));
  const fraction = BigInt((match[3] ?? '').padEnd(6, '0'));
  const value = whole * MICRO + fraction;
  return match[1] === '-' || match[1] === '−' ? -value : value;
}

export function sumUusd(values: readonly string[]): bigint {
  return values.reduce((total, v) => total + BigInt(v), 0n);
}
