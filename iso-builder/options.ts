/**
 * `npm run build:iso` options, parsed and checked up front: errors name the option and the value.
 */
import { parseArgs } from 'node:util';

export interface BuildOptions {
  server: string;
  pin: string | undefined;
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
}

export class OptionError extends Error {
  override readonly name = 'OptionError';
}

export const USAGE = `Usage: npm run build:iso -- --server URL [--pin sha256/BASE64=] [--out dist/homenode.iso]
  [--install-deps] [--test-standins] [--reuse] [--cache-dir DIR] [--mirror URL] [--security-mirror URL]
Builds the Home Node live/installer ISO (run as root). See docs/iso.md.`;

export function parseBuildOptions(argv: readonly string[]): BuildOptions | 'help' {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        server: { type: 'string' },
        pin: { type: 'string' },
        out: { type: 'string' },
        'install-deps': { type: 'boolean', default: false },
        'test-standins': { type: 'boolean', default: false },
        reuse: { type: 'boolean', default: false },
        'cache-dir': { type: 'string' },
        'work-dir': { type: 'string' },
        mirror: { type: 'string' },
        'security-mirror': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new OptionError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) return 'help';
  if (!values.server) throw new OptionError('--server URL is required (the enroll-server the nodes use).');
  checkUrl('--server', values.server);
  if (values.pin !== undefined && !/^sha256\/[A-Za-z0-9+/]{43}=$/.test(values.pin)) {
    throw new OptionError(
      `--pin "${values.pin}" is not a key pin (expected sha256/ then 44 base64 characters).`,
    );
  }
  const mirror = values.mirror ?? 'http://deb.debian.org/debian';
  checkUrl('--mirror', mirror);
  const securityMirror = values['security-mirror'] ?? 'http://deb.debian.org/debian-security';
  checkUrl('--security-mirror', securityMirror);
  return {
    server: values.server,
    pin: values.pin,
    out: values.out ?? (values['test-standins'] ? 'dist/homenode-test.iso' : 'dist/homenode.iso'),
    installDeps: values['install-deps'],
    testStandins: values['test-standins'],
    reuse: values.reuse,
    cacheDir: values['cache-dir'] ?? '/var/cache/homenode-iso',
    workDir: values['work-dir'] ?? 'dist/iso-work',
    mirror,
    securityMirror,
  };
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
