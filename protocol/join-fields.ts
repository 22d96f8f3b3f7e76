/**
 * What each field of the `join` message must look like (DESIGN.md "Control channel", STYLE.md
 * "Validate at every boundary, by pattern"). The agent writes these fields into the wg-quick config
 * (which wg-quick runs as root: a `PostUp` line smuggled in by a newline is a root shell) and into
 * the k3s config, so every one is matched against an anchored pattern that admits no whitespace.
 * The patterns feed the protocol schema (`JoinSchema`) and the agent's renderers check them again
 * right before writing (agent/join/join-config.ts). Pure; no I/O.
 */
import { Type } from 'typebox';
import {
  ARTIFACT_NAME_PATTERN,
  ARTIFACT_VERSION_PATTERN,
  COMPACT_JWS_PATTERN,
  MAX_ARTIFACT_BYTES,
  SHA256_PATTERN,
} from './artifacts.js';

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const PREFIX = '(?:3[0-2]|[12]?[0-9])';
/** 1–65535, no leading zeros. */
const PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = `${LABEL}(?:\\.${LABEL})*`;
/** An IPv6 literal in brackets, as URLs and wg-quick endpoints write it (shape only). */
const IPV6_BRACKETED = '\\[[0-9A-Fa-f:.]{2,45}\\]';
const HOST = `(?:${IPV6_BRACKETED}|${HOSTNAME})`;
/** RFC 1123 subdomain in lower case, as Kubernetes wants for node names and label prefixes. */
const DNS_LABEL = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const DNS_SUBDOMAIN = `${DNS_LABEL}(?:\\.${DNS_LABEL})*`;
/** The name part of a Kubernetes label key, and a non-empty label value: at most 63 characters. */
const LABEL_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';

export const JOIN_PATTERNS = {
  /** An IPv4 address with its prefix: `100.64.0.7/32`. */
  ipv4Cidr: `^${IPV4}/${PREFIX}$`,
  /** A WireGuard key: 32 bytes in base64, 44 characters ending in `=` (canonical last symbol). */
  wireguardKey: '^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$',
  /** `host:port` with a hostname, an IPv4 address or a bracketed IPv6 address, port 1–65535. */
  endpoint: `^${HOST}:${PORT}$`,
  /** The k3s server: `https://host:port`, nothing after the port. */
  k3sServer: `^https://${HOST}:${PORT}$`,
  /** A k3s join token (`K10<hash>::server:<secret>`, or a plain passphrase): no spaces or quotes. */
  k3sToken: '^[A-Za-z0-9._~:+/=@-]{1,512}$',
  /** A Kubernetes node name (RFC 1123 subdomain, lower case, at most 253 characters). */
  nodeName: `^${DNS_SUBDOMAIN}$`,
  /** A Kubernetes label key: an optional DNS-subdomain prefix and `/`, then a name of ≤ 63 characters. */
  labelKey: `^(?:${DNS_SUBDOMAIN}/)?${LABEL_NAME}$`,
  /** A Kubernetes label value: empty, or ≤ 63 characters that start and end alphanumeric. */
  labelValue: `^(?:${LABEL_NAME})?$`,
  /** A network interface name as Linux and wg-quick accept it. */
  interfaceName: '^[A-Za-z0-9_=+.-]{1,15}$',
  /** An artifact's name (`k3s`, `nvidia-container-toolkit`). */
  artifactName: ARTIFACT_NAME_PATTERN,
  /** An artifact's version (`v1.31.4+k3s1`). */
  artifactVersion: ARTIFACT_VERSION_PATTERN,
  /** A SHA-256 in lower-case hex. */
  sha256: SHA256_PATTERN,
  /**
   * Where an artifact is downloaded: a path on the server the agent talks to (its own origin,
   * `/v1/artifacts/k3s/v1.31.4%2Bk3s1`), or an `https://` URL. Never plain http to elsewhere.
   */
  artifactUrl: `^(?:https://${HOST}(?::${PORT})?)?/[A-Za-z0-9._~%+@/-]{0,1000}$`,
  /** The release key's signature: a compact JWS. */
  jws: COMPACT_JWS_PATTERN,
} as const;

export type JoinFieldKind = keyof typeof JOIN_PATTERNS;

/** How each kind of field is described to a person when it does not match. */
export const JOIN_FIELD_SHAPES: Record<JoinFieldKind, string> = {
  ipv4Cidr: 'an IPv4 address with its prefix, such as 100.64.0.7/32',
  wireguardKey: 'a WireGuard key: 44 characters of base64 ending in "="',
  endpoint: 'host:port, with a hostname or an IP address and a port from 1 to 65535',
  k3sServer: 'https://host:port',
  k3sToken: 'a token of letters, digits and . _ ~ : + / = @ - (at most 512 characters)',
  nodeName: 'a Kubernetes node name (lower-case letters, digits, "-" and ".", at most 253 characters)',
  labelKey: 'a Kubernetes label key ([prefix/]name, the name at most 63 characters)',
  labelValue: 'a Kubernetes label value (at most 63 letters, digits, "-", "_" and ".")',
  interfaceName: 'an interface name (at most 15 letters, digits and _ = + . -)',
  artifactName: 'an artifact name (lower-case letters, digits, ".", "+" and "-", at most 64 characters)',
  artifactVersion: 'an artifact version (letters, digits, ".", "+", "~", "_" and "-", at most 64 characters)',
  sha256: 'a SHA-256 (64 lower-case hexadecimal digits)',
  artifactUrl: 'a path on this server (/v1/artifacts/...) or an https:// URL',
  jws: 'a compact JWS (three base64url parts separated by ".")',
};

const MAX_LENGTH: Record<JoinFieldKind, number> = {
  ipv4Cidr: 18,
  wireguardKey: 44,
  endpoint: 261,
  k3sServer: 269,
  k3sToken: 512,
  nodeName: 253,
  labelKey: 317,
  labelValue: 63,
  interfaceName: 15,
  artifactName: 64,
  artifactVersion: 64,
  sha256: 64,
  artifactUrl: 1300,
  jws: 2200,
};
export const MAX_JOIN_LABELS = 64;
export const MAX_ALLOWED_IPS = 32;
/** Runtime packages one join may name. */
export const MAX_JOIN_PACKAGES = 16;
const MAX_LABEL_PREFIX = 253;

const COMPILED = Object.fromEntries(
  Object.entries(JOIN_PATTERNS).map(([kind, pattern]) => [kind, new RegExp(pattern)]),
) as Record<JoinFieldKind, RegExp>;

/** True when `value` is a string of this kind (pattern, length, and no control characters at all). */
export function isJoinField(kind: JoinFieldKind, value: unknown): value is string {
  if (typeof value !== 'string' || value.length > MAX_LENGTH[kind]) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(value)) return false;
  if (!COMPILED[kind].test(value)) return false;
  if (kind === 'labelKey') {
    const slash = value.indexOf('/');
    if (slash > MAX_LABEL_PREFIX) return false;
  }
  return true;
}

/** The schema of one field of this kind (for `JoinSchema` in protocol/control.ts). */
export const joinField = (kind: JoinFieldKind) =>
  Type.String({ pattern: JOIN_PATTERNS[kind], maxLength: MAX_LENGTH[kind] });

/** A field that does not look as it must: names the field, what it must be, and the value (quoted, cut). */
export class JoinFieldError extends Error {
  override readonly name = 'JoinFieldError';
  constructor(
    readonly field: string,
    readonly kind: JoinFieldKind,
    value: unknown,
  ) {
    super(`${field} must be ${JOIN_FIELD_SHAPES[kind]}; the server sent ${shown(value)}`);
  }
}

function shown(value: unknown): string {
  if (typeof value !== 'string') return `a ${value === null ? 'null' : typeof value}`;
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}..."` : text;
}

/** Throws `JoinFieldError` unless `value` is a field of this kind; returns it for use in place. */
export function requireJoinField(field: string, kind: JoinFieldKind, value: unknown): string {
  if (!isJoinField(kind, value)) throw new JoinFieldError(field, kind, value);
  return value;
}

/** `value[key]` when `value` is an object, else undefined (for values not yet trusted). */
function prop(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * Every field of a `join` checked by pattern; throws `JoinFieldError` for the first that does not
 * match. Used by the agent before it writes anything, whatever the schema said.
 */
export function assertJoinFields(join: unknown): void {
  const c = prop(join, 'cluster');
  const n = prop(join, 'network');
  requireJoinField('cluster.server', 'k3sServer', prop(c, 'server'));
  requireJoinField('cluster.token', 'k3sToken', prop(c, 'token'));
  requireJoinField('cluster.nodeName', 'nodeName', prop(c, 'nodeName'));
  requireJoinField('network.address', 'ipv4Cidr', prop(n, 'address'));
  requireJoinField('network.hubPublicKey', 'wireguardKey', prop(n, 'hubPublicKey'));
  requireJoinField('network.hubEndpoint', 'endpoint', prop(n, 'hubEndpoint'));
  const ips = prop(n, 'allowedIps');
  if (!Array.isArray(ips) || ips.length === 0 || ips.length > MAX_ALLOWED_IPS)
    throw new JoinFieldError('network.allowedIps', 'ipv4Cidr', ips);
  ips.forEach((ip: unknown, i) => requireJoinField(`network.allowedIps[${i}]`, 'ipv4Cidr', ip));
  const keepalive = prop(n, 'persistentKeepalive');
  if (typeof keepalive !== 'number' || !Number.isInteger(keepalive) || keepalive < 0 || keepalive > 65535)
    throw new RangeError(
      `network.persistentKeepalive must be a whole number of seconds from 0 to 65535; the server sent ${shown(keepalive)}`,
    );
  const labels = prop(join, 'labels');
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels))
    throw new TypeError(`labels must be an object of Kubernetes labels; the server sent ${shown(labels)}`);
  const entries = Object.entries(labels);
  if (entries.length > MAX_JOIN_LABELS)
    throw new RangeError(
      `labels may hold at most ${MAX_JOIN_LABELS} labels; the server sent ${entries.length}`,
    );
  for (const [key, value] of entries) {
    requireJoinField('a label key', 'labelKey', key);
    requireJoinField(`the label ${key}`, 'labelValue', value);
  }
  const k3s = prop(join, 'k3s');
  if (k3s !== undefined) assertArtifactRef('k3s', k3s, false);
  const packages = prop(join, 'packages');
  if (packages !== undefined) {
    if (!Array.isArray(packages) || packages.length > MAX_JOIN_PACKAGES)
      throw new TypeError(
        `packages must be a list of at most ${MAX_JOIN_PACKAGES} artifacts; the server sent ${shown(packages)}`,
      );
    packages.forEach((p: unknown, i) => assertArtifactRef(`packages[${i}]`, p, true));
  }
}

/** One artifact named in a join: `{ name?, version, sha256, size, url, signature }`. */
function assertArtifactRef(field: string, ref: unknown, named: boolean): void {
  if (typeof ref !== 'object' || ref === null || Array.isArray(ref))
    throw new TypeError(`${field} must describe an artifact; the server sent ${shown(ref)}`);
  if (named) requireJoinField(`${field}.name`, 'artifactName', prop(ref, 'name'));
  requireJoinField(`${field}.version`, 'artifactVersion', prop(ref, 'version'));
  requireJoinField(`${field}.sha256`, 'sha256', prop(ref, 'sha256'));
  requireJoinField(`${field}.url`, 'artifactUrl', prop(ref, 'url'));
  requireJoinField(`${field}.signature`, 'jws', prop(ref, 'signature'));
  const size = prop(ref, 'size');
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1 || size > MAX_ARTIFACT_BYTES)
    throw new RangeError(
      `${field}.size must be a whole number of bytes from 1 to ${MAX_ARTIFACT_BYTES}; the server sent ${shown(size)}`,
    );
}

/** `assertJoinFields` as a value: undefined when every field matches, else the reason in words. */
export function joinFieldProblem(join: unknown): string | undefined {
  try {
    assertJoinFields(join);
    return undefined;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
