/**
 * Where a webhook may point. A webhook makes this server send requests to a URL someone typed, so
 * it must not become a way into our own network (SSRF): loopback, link-local (cloud metadata at
 * 169.254.169.254), private, CGNAT, multicast and reserved ranges are refused, for IPv4, IPv6 and
 * IPv4 inside IPv6, unless the operator allows them (HOMENODE_WEBHOOK_ALLOW_PRIVATE; tests do).
 * The check is made when the webhook is created and again on every delivery, on the very address
 * the connection uses (so a DNS answer that changes in between does not get round it). Pure.
 */
import { BlockList, isIP } from 'node:net';

const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['100::', 64],
  ['2001::', 32],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  blocked.addSubnet(net, bits, 'ipv6');

/** The IPv4 address inside an IPv4-mapped or -compatible IPv6 address (`::ffff:10.0.0.1`). */
function embeddedIpv4(address: string): string | undefined {
  const match = /^::(?:ffff:)?(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (match?.[1]) return match[1];
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex?.[1] || !hex[2]) return undefined;
  const a = parseInt(hex[1], 16);
  const b = parseInt(hex[2], 16);
  return `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`;
}

/** True for an address a webhook must not reach. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family !== 6) return true;
  const v4 = embeddedIpv4(address);
  if (v4) return blocked.check(v4, 'ipv4');
  return blocked.check(address, 'ipv6');
}

export type UrlCheck = { ok: true; url: URL; literalAddress: string | null } | { ok: false; problem: string };

/** The URL's shape: http(s), a host, no credentials, not too long; literal addresses checked here. */
export function checkWebhookUrl(text: string, allowPrivate: boolean): UrlCheck {
  if (text.length > 2048) return { ok: false, problem: 'is longer than 2048 characters' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: 'is not an absolute URL such as https://hooks.example.com/homenode' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { ok: false, problem: 'must start with https:// (or http://)' };
  if (url.username || url.password)
    return { ok: false, problem: 'must not carry a user name or password; use the signing secret instead' };
  if (!url.hostname) return { ok: false, problem: 'has no host' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const literal = isIP(host) ? host : null;
  if (!allowPrivate) {
    if (literal && isBlockedAddress(literal))
      return {
        ok: false,
        problem: `points at ${literal}, a loopback, private or reserved address this server does not send to`,
      };
    if (/^(localhost|.*\.localhost|.*\.local|.*\.internal)$/i.test(host))
      return { ok: false, problem: `names ${host}, a local host name this server does not send to` };
  }
  return { ok: true, url, literalAddress: literal };
}
