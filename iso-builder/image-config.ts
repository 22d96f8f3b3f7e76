/**
 * `/etc/homenode/config.json` in the image: the server, its key pin, the insecure-http consent when
 * given, and (test images) writable join paths and fast intervals.
 */
import type { BuildOptions } from './options.js';

export const STANDIN_PATH =
  '/opt/homenode/standins/bin-rtx4090:/opt/homenode/standins/bin-cluster:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function imageConfig(
  o: Pick<BuildOptions, 'server' | 'pin' | 'testStandins' | 'allowInsecureHttp'>,
): Record<string, unknown> {
  return {
    serverUrl: o.server,
    stateDir: '/var/lib/homenode',
    ...(o.pin ? { serverPin: o.pin } : {}),
    ...(o.allowInsecureHttp ? { allowInsecureHttp: true } : {}),
    ...(o.testStandins
      ? {
          paths: {
            wireguardDir: '/var/lib/homenode/test/wireguard',
            k3sConfigPath: '/var/lib/homenode/test/k3s/config.yaml',
          },
          intervals: { heartbeatMs: 5_000, reconnectMinMs: 1_000, reconnectMaxMs: 5_000 },
        }
      : {}),
  };
}
