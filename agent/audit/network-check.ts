/**
 * `network`: how long the server's name takes to look up, the median round trip to the server and
 * the download and upload throughput, through the server's network probe (protocol/audit.ts).
 * Throughput is skipped while a workload runs (it would compete for the line) and in light audits.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { AuditThresholds } from '../../protocol/audit-policy.js';
import { NET_PROBE_PATH } from '../../protocol/audit.js';
import { busyReason, timeoutMs, type AuditContext } from './context.js';
import { combine, figure, skip, verdict, type CheckOutcome, type Problem, type Verdict } from './finding.js';
import {
  ProbeNetworkError,
  createNetProbeClient,
  type NetProbeClient,
  type ProbeAnswer,
} from './net-probe-client.js';

export interface NetworkFigures {
  dnsMs?: number | undefined;
  rttMs?: number | undefined;
  downloadMbps?: number | undefined;
  uploadMbps?: number | undefined;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

export const mbps = (bytes: number, ms: number): number => (bytes * 8) / 1e6 / Math.max(ms / 1000, 1e-6);

function metricsOf(f: NetworkFigures) {
  return {
    ...(f.dnsMs === undefined ? {} : { networkDnsMs: f.dnsMs }),
    ...(f.rttMs === undefined ? {} : { networkRttMs: f.rttMs }),
    ...(f.downloadMbps === undefined ? {} : { networkDownloadMbps: f.downloadMbps }),
    ...(f.uploadMbps === undefined ? {} : { networkUploadMbps: f.uploadMbps }),
  };
}

function describe(f: NetworkFigures): string {
  const parts = [
    f.downloadMbps === undefined ? '' : `${figure(f.downloadMbps)} Mbit/s down`,
    f.uploadMbps === undefined ? '' : `${figure(f.uploadMbps)} Mbit/s up`,
    f.rttMs === undefined ? '' : `${figure(f.rttMs)} ms round trip`,
    f.dnsMs === undefined ? '' : `DNS ${figure(f.dnsMs)} ms`,
  ].filter(Boolean);
  return parts.join(', ');
}

const LINE_FIX =
  'Connect the machine to the router with an Ethernet cable rather than Wi-Fi or powerline, restart the router, and check with your internet provider that the line gives the speed you pay for.';

/** Thresholds applied to the figures that were measured; `note` explains what was not. */
export function assessNetwork(
  f: NetworkFigures,
  t: AuditThresholds,
  note: string,
  found: readonly Problem[] = [],
): Verdict {
  const problems: Problem[] = [...found];
  if (f.downloadMbps !== undefined && f.downloadMbps < t.networkMinDownloadMbps)
    problems.push({
      status: 'fail',
      summary: `Downloads from the server are too slow: ${figure(f.downloadMbps)} Mbit/s`,
      detail: `Workloads download their images and data: at least ${figure(t.networkMinDownloadMbps)} Mbit/s are needed.`,
      fix: LINE_FIX,
    });
  if (f.uploadMbps !== undefined && f.uploadMbps < t.networkMinUploadMbps)
    problems.push({
      status: 'fail',
      summary: `Uploads to the server are too slow: ${figure(f.uploadMbps)} Mbit/s`,
      detail: `Workloads send results back: at least ${figure(t.networkMinUploadMbps)} Mbit/s upload are needed.`,
      fix: LINE_FIX,
    });
  if (f.rttMs !== undefined && f.rttMs > t.networkMaxRttMs)
    problems.push({
      status: 'fail',
      summary: `The connection to the server is very slow to answer: ${figure(f.rttMs)} ms`,
      detail: `A round trip to the server takes ${figure(f.rttMs)} ms (median); at most ${figure(t.networkMaxRttMs)} ms is acceptable.`,
      fix: LINE_FIX,
    });
  if (f.dnsMs !== undefined && f.dnsMs > t.networkMaxDnsMs)
    problems.push({
      status: 'warn',
      summary: `Looking up the server's name is slow: ${figure(f.dnsMs)} ms`,
      detail: `The name lookup (DNS) took ${figure(f.dnsMs)} ms; it should take under ${figure(t.networkMaxDnsMs)} ms.`,
      fix: "Restart the router. If it stays slow, set the router's DNS servers to your provider's or a public resolver.",
    });
  const measured = describe(f);
  const detail = problems.length && measured ? `Measured: ${measured}. ${note}` : note;
  return combine(problems, measured || 'The server answered', detail.trim(), metricsOf(f));
}

/** What a non-200 probe answer means for the person (the server's side of the contract). */
export function probeRefusal(answer: ProbeAnswer, enrolled: boolean, serverUrl: string): Problem {
  const path = `${serverUrl.replace(/\/+$/, '')}${NET_PROBE_PATH}`;
  if (answer.status === 404)
    return {
      status: 'warn',
      summary: 'Throughput not measured: the server does not offer the network probe yet',
      detail: `${path} answered 404${answer.errorCode ? ` (${answer.errorCode})` : ''}: this server does not measure download and upload speed yet.`,
      fix: 'Nothing to do: the speed is measured once the server offers it.',
    };
  if (answer.status === 401 || answer.status === 403)
    return enrolled
      ? {
          status: 'warn',
          summary: "Throughput not measured: the server did not accept this machine's identity",
          detail: `${path} answered ${answer.status}${answer.errorCode ? ` (${answer.errorCode})` : ''}.`,
          fix: 'If this machine was removed by the operations team, contact support; otherwise the next audit tries again.',
        }
      : {
          status: 'warn',
          summary: 'Throughput not measured: this machine is not enrolled yet',
          detail: `The network probe (${path}) is only for enrolled machines; it answered ${answer.status}.`,
          fix: 'Enroll the machine first (npm run agent -- run), then audit again.',
        };
  if (answer.status === 429)
    return {
      status: 'warn',
      summary: 'Throughput not measured: the server asked to wait',
      detail: `${path} answered 429${answer.retryAfter ? ` (retry after ${answer.retryAfter} s)` : ''}.`,
      fix: 'Nothing to do: the next audit measures it.',
    };
  return {
    status: 'warn',
    summary: `Throughput not measured: the server answered ${answer.status}`,
    detail: `${path} answered ${answer.status}${answer.errorCode ? ` (${answer.errorCode})` : ''}.`,
    fix: 'Nothing to do now; if this keeps happening, contact support.',
  };
}

async function timedLookup(ctx: AuditContext, host: string): Promise<number | Problem> {
  const started = ctx.monotonic();
  try {
    await ctx.lookup(host);
    return ctx.monotonic() - started;
  } catch (error) {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown error';
    return {
      status: 'fail',
      summary: "The server's name cannot be looked up",
      detail: `Looking up ${host} failed (${code}): this machine cannot reach Home Node.`,
      fix: 'Check that the router is connected to the internet (try a website on another device), then restart the machine.',
    };
  }
}

async function measure(
  ctx: AuditContext,
  client: NetProbeClient,
  enrolled: boolean,
  url: string,
  figures: NetworkFigures,
): Promise<Verdict> {
  const { limits, thresholds } = ctx.policy;
  const rtts: number[] = [];
  let first: ProbeAnswer | undefined;
  for (let i = 0; i <= limits.networkRttSamples; i += 1) {
    const answer = await client.download(0, timeoutMs(ctx, 10_000));
    first ??= answer;
    if (i > 0) rtts.push(answer.ms); // the first one also opens the connection
    if (answer.status === 429) break; // any answer is a round trip, but the server asked to wait
  }
  if (rtts.length) figures.rttMs = median(rtts);
  if (first && first.status !== 200)
    return assessNetwork(figures, thresholds, '', [probeRefusal(first, enrolled, url)]);
  if (ctx.busyLeases.length)
    return assessNetwork(figures, thresholds, `Throughput not measured: ${busyReason(ctx.busyLeases)}.`);
  if (!ctx.heavy)
    return assessNetwork(figures, thresholds, 'Throughput not measured: this was a light audit.');
  const notes: string[] = [];
  if (limits.networkDownloadBytes > 0) {
    const down = await client.download(limits.networkDownloadBytes, timeoutMs(ctx, 120_000));
    if (down.status === 200 && down.bytes === limits.networkDownloadBytes)
      figures.downloadMbps = mbps(down.bytes, down.ms);
    else
      notes.push(
        `The download answered ${down.status} with ${down.bytes} of ${limits.networkDownloadBytes} bytes.`,
      );
  }
  if (limits.networkUploadBytes > 0) {
    const up = await client.upload(randomBytes(limits.networkUploadBytes), timeoutMs(ctx, 120_000));
    if (up.status === 200 && up.bytes === limits.networkUploadBytes)
      figures.uploadMbps = mbps(up.bytes, up.ms);
    else
      notes.push(
        `The upload answered ${up.status}; the server counted ${up.bytes} of ${limits.networkUploadBytes} bytes.`,
      );
  }
  const how = `Downloaded ${figure(limits.networkDownloadBytes / 2 ** 20)} MiB and uploaded ${figure(limits.networkUploadBytes / 2 ** 20)} MiB through ${NET_PROBE_PATH}.`;
  return assessNetwork(figures, thresholds, [how, ...notes].join(' '));
}

export async function runNetworkCheck(ctx: AuditContext): Promise<CheckOutcome> {
  const server = ctx.server;
  if (!server)
    return skip(
      'No server is configured (--server or the config file), so there is nothing to measure against.',
    );
  const host = new URL(server.url).hostname.replace(/^\[|\]$/g, '');
  const figures: NetworkFigures = {};
  if (!isIP(host)) {
    const dns = await timedLookup(ctx, host);
    if (typeof dns !== 'number') return assessNetwork(figures, ctx.policy.thresholds, '', [dns]);
    figures.dnsMs = dns;
  }
  const enrolled = (await server.token()) !== undefined;
  const client = createNetProbeClient({
    serverUrl: server.url,
    token: server.token,
    serverPin: server.serverPin,
    monotonic: ctx.monotonic,
  });
  try {
    return await measure(ctx, client, enrolled, server.url, figures);
  } catch (error) {
    if (!(error instanceof ProbeNetworkError)) throw error;
    return verdict(
      'fail',
      'Cannot reach the Home Node server',
      `${server.url} did not answer the network probe: ${error.message}.`,
      'Check the internet connection and any firewall on your router, then restart the machine. If it still fails, the server may be down: try again in a few minutes.',
      metricsOf(figures),
    );
  } finally {
    client.close();
  }
}
