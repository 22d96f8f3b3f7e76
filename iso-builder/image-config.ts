/**
 * `/etc/homenode/config.json` in the image: the server, its key pin, the insecure-http consent when
 * given, the release key, and (test images) writable join paths (k3s, its unit) and fast intervals.
 */
import type { ReleaseKey } from '../protocol/artifacts.js';
import type { BuildOptions } from './options.js';

export const STANDIN_PATH =
  '/opt/homenode/standins/bin-rtx4090:/opt/homenode/standins/bin-cluster:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Test images: the k3s unit goes here (the systemctl stand-in reads it), not to /etc/systemd. */
export const TEST_SYSTEMD_DIR = '/var/lib/homenode/test/systemd';

export function imageConfig(
  o: Pick<BuildOptions, 'server' | 'pin' | 'testStandins' | 'allowInsecureHttp'> & {
    k3s?: string | undefined;
  },
  releaseKey?: ReleaseKey,
): Record<string, unknown> {
  return {
    serverUrl: o.server,
    stateDir: '/var/lib/homenode',
    ...(o.pin ? { serverPin: o.pin } : {}),
    ...(o.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
    // The agent refuses every artifact whose signature does not verify with this key.
    ...(releaseKey ? { releaseKey } : {}),
    ...(o.testStandins
      ? {
          paths: {
            wireguardDir: '/var/lib/homenode/test/wireguard',
            k3sConfigPath: '/var/lib/homenode/test/k3s/config.yaml',
            // The k3s stand-in plays the image's embedded k3s: a join without a k3s artifact
            // installs it here, and the stand-in systemctl "starts" it.
            k3sBinary: '/var/lib/homenode/test/k3s/k3s',
            ...(o.k3s ? {} : { embeddedK3s: '/opt/homenode/standins/bin-cluster/k3s' }),
            systemdDir: TEST_SYSTEMD_DIR,
          },
          // A refused join (test:iso changes an artifact's bytes, then restores them) is tried again soon.
          intervals: {
            heartbeatMs: 5_000,
            reconnectMinMs: 1_000,
            reconnectMaxMs: 5_000,
            joinRetryMinMs: 5_000,
            joinRetryMaxMs: 15_000,
          },
        }
      : {}),
  };
}
