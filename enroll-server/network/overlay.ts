/** Addresses in the private overlay (pure): the hub is slot 1, nodes take slots from 2. */
import { formatIpv4, parseCidr } from '../../protocol/cidr.js';

/** The overlay address of slot `index` (`100.64.0.0/10`, 7 → `100.64.0.7`). */
export function overlayAddress(cidr: string, index: number): string {
  const range = parseCidr(cidr);
  if (!range) throw new Error(`overlay CIDR ${cidr} is not valid`);
  if (index >= 2 ** (32 - range.prefix) - 1)
    throw new Error(`overlay ${cidr} has no room for node number ${index}`);
  return formatIpv4(range.network + index);
}
