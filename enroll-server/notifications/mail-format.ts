/** How mails write times, durations and money: UTC, in words people read, money exact (bigint). Pure. */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => String(n).padStart(2, '0');

/** `14:05 UTC on 1 Dec 2026` */
export function utcTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getUTCHours())}:${two(d.getUTCMinutes())} UTC on ${utcDate(ms)}`;
}

/** `1 Dec 2026` */
export function utcDate(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()] ?? ''} ${d.getUTCFullYear()}`;
}

/** `2 hours 5 minutes`, `45 minutes`, `3 days 2 hours` */
export function duration(ms: number): string {
  const minutes = Math.max(0, Math.round(ms / 60_000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const rest = minutes % 60;
  if (days > 0) return hours > 0 ? `${plural(days, 'day')} ${plural(hours, 'hour')}` : plural(days, 'day');
  if (hours > 0)
    return rest > 0 ? `${plural(hours, 'hour')} ${plural(rest, 'minute')}` : plural(hours, 'hour');
  return plural(rest, 'minute');
}

/** `"12345678"` (micro-USD) → `$12.35`, rounded half up at the cent; exact bigint arithmetic. */
export function usd(uusd: string): string {
  const value = /^-?\d{1,30}$/.test(uusd) ? BigInt(uusd) : 0n;
  const negative = value < 0n;
  const cents = ((negative ? -value : value) + 5_000n) / 10_000n;
  const whole = (cents / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${negative && cents > 0n ? '-' : ''}$${whole}.${(cents % 100n).toString().padStart(2, '0')}`;
}
