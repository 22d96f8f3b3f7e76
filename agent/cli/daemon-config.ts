/**
 * The daemon's part of the config file: intervals (tests use fractions of a second), the paths it
 * writes (WireGuard, k3s, usage spool, log) and the remote-shell opt-out. Defaults follow the
 * protocol's constants and the usual system locations.
 */
import { Type, type Static } from 'typebox';
import {
  HEARTBEAT_INTERVAL_MS,
  RECONNECT_MAX_MS,
  RECONNECT_MIN_MS,
  USAGE_INTERVAL_MS,
  USAGE_SAMPLE_INTERVAL_MS,
} from '../../protocol/control.js';

const Ms = Type.Integer({ minimum: 10, maximum: 86_400_000 });
const Path = Type.String({ minLength: 1, maxLength: 1024 });

export const DaemonFileSchema = Type.Object({
  /** False: refuse every remote shell (hello.shellEnabled=false). Default true. */
  remoteShell: Type.Optional(Type.Boolean()),
  /** The login shell for remote sessions, as an argument array. Default ["/bin/bash", "-l"]. */
  shellCommand: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 32 })),
  wireguardInterface: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_=+.-]{1,15}$' })),
  paths: Type.Optional(
    Type.Object({
      wireguardDir: Type.Optional(Path),
      k3sConfigPath: Type.Optional(Path),
      spoolDir: Type.Optional(Path),
      logFile: Type.Optional(Path),
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
    }),
  ),
});
type DaemonFile = Static<typeof DaemonFileSchema>;

export interface DaemonConfig {
  remoteShell: boolean;
  shellCommand: [string, ...string[]];
  wireguardInterface: string;
  paths: { wireguardDir: string; k3sConfigPath: string; spoolDir: string; logFile: string };
  intervals: {
    heartbeatMs: number;
    usageSampleMs: number;
    usageReportMs: number;
    hardwareProbeMs: number;
    reconnectMinMs: number;
    reconnectMaxMs: number;
    healthyAfterMs: number;
  };
}

export const DEFAULT_HARDWARE_PROBE_MS = 10 * 60_000;
export const DEFAULT_HEALTHY_AFTER_MS = 30_000;

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
    paths: {
      wireguardDir: file.paths?.wireguardDir ?? '/etc/wireguard',
      k3sConfigPath: file.paths?.k3sConfigPath ?? '/etc/rancher/k3s/config.yaml',
      spoolDir: file.paths?.spoolDir ?? join(stateDir, 'spool'),
      logFile: file.paths?.logFile ?? join(stateDir, 'agent.log'),
    },
    intervals: {
      heartbeatMs: i.heartbeatMs ?? HEARTBEAT_INTERVAL_MS,
      usageSampleMs: i.usageSampleMs ?? USAGE_SAMPLE_INTERVAL_MS,
      usageReportMs: i.usageReportMs ?? USAGE_INTERVAL_MS,
      hardwareProbeMs: i.hardwareProbeMs ?? DEFAULT_HARDWARE_PROBE_MS,
      reconnectMinMs,
      reconnectMaxMs: Math.max(reconnectMinMs, i.reconnectMaxMs ?? RECONNECT_MAX_MS),
      healthyAfterMs: i.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS,
    },
  };
}
