/** Money is integer micro-USD (uusd) as bigint in code and as decimal strings on the wire. */

export const UUSD_PER_USD = 1_000_000n;

/** Parse an integer uusd string ("-2500000"); undefined when it is not a whole number. */
export function parseUusd(text: string): bigint | undefined {
  return /^-?\d{1,30}$/.test(text) ? BigInt(text) : undefined;
}

/** "12345678" → "12.345678" (USD with six decimals), exact. */
export function formatUsd(uusd: bigint): string {
  const sign = uusd < 0n ? '-' : '';
  const abs = uusd < 0n ? -uusd : uusd;
  return `${sign}${abs / UUSD_PER_USD}.${(abs % UUSD_PER_USD).toString().padStart(6, '0')}`;
}

/** Floor division for bigints (rounds towards minus infinity), with the remainder. */
export function divFloor(numerator: bigint, denominator: bigint): { quotient: bigint; remainder: bigint } {
  let quotient = numerator / denominator;
  let remainder = numerator % denominator;
  if (remainder !== 0n && remainder < 0n !== denominator < 0n) {
    quotient -= 1n;
    remainder += denominator;
  }
  return { quotient, remainder };
}
