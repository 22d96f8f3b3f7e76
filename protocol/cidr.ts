/** IPv4 address and CIDR arithmetic for the private-network check. */

export interface Ipv4Range {
  /** Network address as an unsigned 32-bit integer. */
  network: number;
  prefix: number;
  /** The text it came from, normalised to the network address (`192.168.1.0/24`). */
  text: string;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.trim().split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parse `a.b.c.d/n` (or a bare address, taken as /32) into the range it names. */
export function parseCidr(text: string): Ipv4Range | undefined {
  const [addressText = '', prefixText] = text.split('/');
  const address = parseIpv4(addressText);
  const prefix = prefixText === undefined ? 32 : Number(prefixText);
  if (address === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > 32) return undefined;
  const size = 2 ** (32 - prefix);
  const network = address - (address % size);
  return { network, prefix, text: `${formatIpv4(network)}/${prefix}` };
}

export function rangeContains(range: Ipv4Range, address: number): boolean {
  return address >= range.network && address < range.network + 2 ** (32 - range.prefix);
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  const aEnd = a.network + 2 ** (32 - a.prefix);
  const bEnd = b.network + 2 ** (32 - b.prefix);
  return a.network < bEnd && b.network < aEnd;
}

const PRIVATE_RANGES = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'].map((r) => parseCidr(r)!);
const CGNAT_RANGE = parseCidr('100.64.0.0/10')!;
const NON_PUBLIC_RANGES = ['0.0.0.0/8', '127.0.0.0/8', '169.254.0.0/16', '224.0.0.0/3'].map((r) =>
  parseCidr(r)!,
);

export type AddressKind = 'private' | 'cgnat' | 'loopback-or-link-local' | 'public';

/** Classify an interface address: RFC 1918, carrier-grade NAT, not routable, or public. */
export function classifyIpv4(address: number): AddressKind {
  if (PRIVATE_RANGES.some((r) => rangeContains(r, address))) return 'private';
  if (rangeContains(CGNAT_RANGE, address)) return 'cgnat';
  if (NON_PUBLIC_RANGES.some((r) => rangeContains(r, address))) return 'loopback-or-link-local';
  return 'public';
}
