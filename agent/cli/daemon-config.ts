/**
 * The daemon's part of the config file: intervals (tests use fractions of a second), the paths it
 * writes (WireGuard, k3s, usage spool, log) and the remote-shell opt-out. Defaults follow the
 * protocol's constants and the usual system locations.
 */
import { Type, type Static } from 'typebox';
import { ReleaseKeySchema, type ReleaseKey } from '../../protocol/artifacts.js';
import {
  HEARTBEAT_INTERVAL_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  USAGE_INTERVAL_MS,
  USAGE_SAMPLE_INTERVAL_MS,
} from '../../protocol/control.js';

const Ms = Type.Integer({ minimum: 10, maximum: 86_400_000 });
const Path = Type.String({ minLength: 1, maxLength: 1024 });
/** A path that goes into a systemd unit line: absolute, no spaces, quotes or newlines. */
const UnitPath = Type.String({ pattern: '^/[A-Za-z0-9._/+-]{1,1023}$' });

export const DaemonFileSchema = Type.Object({
  /** False: refuse every remote shell (hello.shellEnabled=false). Default true. */
  remoteShell: Type.Optional(Type.Boolean()),
  /** The login shell for remote sessions, as an argument array. Default ["/bin/bash", "-l"]. */
  shellCommand: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 32 })),
  wireguardInterface: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_=+.-]{1,15}$' })),
  /** The server's release key (public JWK, written by build:iso): artifacts must verify with it. */
  releaseKey: Type.Optional(ReleaseKeySchema),
  paths: Type.Optional(
    Type.Object({
      wireguardDir: Type.Optional(Path),
      k3sConfigPath: Type.Optional(UnitPath),
      spoolDir: Type.Optional(Path),
      logFile: Type.Optional(Path),
      /** Where the k3s binary is installed. */
      k3sBinary: Type.Optional(UnitPath),
      /** Where the k3s-agent unit is written. */
      systemdDir: Type.Optional(Path),
      /** Downloads in progress and verified files waiting to be installed. */
      downloadDir: Type.Optional(Path),
      /** The k3s binary the image carries (build:iso --k3s), used when its SHA-256 matches. */
      embeddedK3s: Type.Optional(Path),
      /** The root under which k3s looks for nvidia-container-runtime ("/" on a real machine). */
      runtimeRoot: Type.Optional(Path),
    }),
  ),
  intervals: Type.Optional(
    Type.Object({
      heartbeatMs: Type.Optional(Ms),
      usageSampleMs: Type.Optional(Ms),
      usageReportMs: Type.Optional(Ms),
      hardwareProbeMs: Type.Optional(Ms),
      reconnectMinMs: Type.Optional(Ms),
      reconnectMaxMs: Type.Optional(Ms),
      /** A connection that lasted this long after `welcome` resets the backoff. */
      healthyAfterMs: Type.Optional(Ms),
      /** A failed join is tried again after this, doubling up to joinRetryMaxMs (with jitter). */
      joinRetryMinMs: Type.Optional(Ms),
      joinRetryMaxMs: Type.Optional(Ms),
      /** Pause before the first retry of a cut download (doubling; 5 attempts per join). */
      downloadRetryMs: Type.Optional(Ms),
    }),
  ),
});
type DaemonFile = Static<typeof DaemonFileSchema>;

export interface DaemonConfig {
  remoteShell: boolean;
  shellCommand: [string, ...string[]];
  wireguardInterface: string;
  releaseKey: ReleaseKey | undefined;
  paths: {
    wireguardDir: string;
    k3sConfigPath: string;
    spoolDir: string;
    logFile: string;
    k3sBinary: string;
    systemdDir: string;
    downloadDir: string;
    embeddedK3s: string;
    runtimeRoot: string;
  };
  intervals: {
    heartbeatMs: number;
    usageSampleMs: number;
    usageReportMs: number;
    hardwareProbeMs: number;
    reconnectMinMs: number;
    reconnectMaxMs: number;
    healthyAfterMs: number;
    joinRetryMinMs: number;
    joinRetryMaxMs: number;
    downloadRetryMs: number;
  };
}

export const DEFAULT_HARDWARE_PROBE_MS = 10 * 60_000;
export const DEFAULT_HEALTHY_AFTER_MS = 30_000;
export const DEFAULT_JOIN_RETRY_MIN_MS = 30_000;
export const DEFAULT_JOIN_RETRY_MAX_MS = 15 * 60_000;
/** Where build:iso puts the k3s it embeds. */
export const EMBEDDED_K3S_PATH = '/opt/homenode/k3s/k3s';

export function resolveDaemonConfig(
  file: DaemonFile,
  stateDir: string,
  join: (...parts: string[]) => string,
): DaemonConfig {
  const [program = '/bin/bash', ...rest] = file.shellCommand ?? ['/bin/bash', '-l'];
  const i = file.intervals ?? {};
  const reconnectMinMs = i.reconnectMinMs ?? RECONNECT_MIN_MS;
  return {
    remoteShell: file.remoteShell ?? true,
    shellCommand: [program, ...rest],
    wireguardInterface: file.wireguardInterface ?? 'homenode0',
    releaseKey: file.releaseKey,
    paths: {
      wireguardDir: file.paths?.wireguardDir ?? '/etc/wireguard',
      k3sConfigPath: file.paths?.k3sConfigPath ?? '/etc/rancher/k3s/config.yaml',
      spoolDir: file.paths?.spoolDir ?? join(stateDir, 'spool'),
      logFile: file.paths?.logFile ?? join(stateDir, 'agent.log'),
      k3sBinary: file.paths?.k3sBinary ?? '/usr/local/bin/k3s',
      systemdDir: file.paths?.systemdDir ?? '/etc/systemd/system',
      downloadDir: file.paths?.downloadDir ?? join(stateDir, 'downloads'),
      embeddedK3s: file.paths?.embeddedK3s ?? EMBEDDED_K3S_PATH,
      runtimeRoot: file.paths?.runtimeRoot ?? '/',
    },
    intervals: {
      heartbeatMs: i.heartbeatMs ?? HEARTBEAT_INTERVAL_MS,
      usageSampleMs: i.usageSampleMs ?? USAGE_SAMPLE_INTERVAL_MS,
      usageReportMs: i.usageReportMs ?? USAGE_INTERVAL_MS,
      hardwareProbeMs: i.hardwareProbeMs ?? DEFAULT_HARDWARE_PROBE_MS,
      reconnectMinMs,
      reconnectMaxMs: Math.max(reconnectMinMs, i.reconnectMaxMs ?? RECONNECT_MAX_MS),
      healthyAfterMs: i.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS,
      joinRetryMinMs: i.joinRetryMinMs ?? DEFAULT_JOIN_RETRY_MIN_MS,
      joinRetryMaxMs: Math.max(
        i.joinRetryMinMs ?? DEFAULT_JOIN_RETRY_MIN_MS,
        i.joinRetryMaxMs ?? DEFAULT_JOIN_RETRY_MAX_MS,
      ),
      downloadRetryMs: i.downloadRetryMs ?? 1000,
    },
  };
}
