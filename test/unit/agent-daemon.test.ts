/** Pure parts of the agent daemon: backoff, metrics and pod parsing, usage windows, screens (join files: agent-join-config). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDaemonConfig } from '../../agent/cli/daemon-config.js';
import { boundOutput, tailLines } from '../../agent/commands/bounded-output.js';
import { controlUrl, readRefusal, readRetryAfter } from '../../agent/control/dial.js';
import { hardwareDigest } from '../../agent/control/hardware-watch.js';
import { ReconnectBackoff, fullJitterDelay } from '../../agent/control/reconnect.js';
import { parseGpuMetrics } from '../../agent/metrics/gpu-metrics.js';
import { createStyle } from '../../agent/ui/output.js';
import {
  type DaemonView,
  INSECURE_STATUS_LINE,
  SCREEN_ROWS,
  renderStatusScreen,
} from '../../agent/ui/status-screen.js';
import { kubectlPodsArgs, parseGpuPods } from '../../agent/usage/gpu-pods.js';
import { addSample, closeWindow, openWindow } from '../../agent/usage/usage-window.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';

const PODS = readFileSync(join(import.meta.dirname, '../fixtures/agent/k3s/pods-gpu.json'), 'utf8');
const LEASE =
  'akash1q7spxfj3ps6lx4qk2xlqjkxr3wpjyjmk4ap0vn/18744213/1/1/akash1homenodeprovider0000000000000000000000';

describe('reconnect backoff (full jitter)', () => {
  const options = { minMs: 1000, maxMs: 60_000 };
  it('waits between 0 and min(cap, 1 s·2^(n-1)), reaching both ends', () => {
    for (let attempt = 1; attempt <= 12; attempt += 1) {
      const ceiling = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      expect(fullJitterDelay(attempt, () => 0, options)).toBe(0);
      expect(fullJitterDelay(attempt, () => 0.999999, options)).toBe(ceiling - 1);
      for (let i = 0; i < 50; i += 1) {
        const d = fullJitterDelay(attempt, Math.random, options);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
    expect(fullJitterDelay(1000, () => 0.5, options)).toBe(30_000);
  });

  it('spreads a fleet: 1000 nodes reconnecting at attempt 6 do not bunch', () => {
    const delays = Array.from({ length: 1000 }, () => fullJitterDelay(6, Math.random, options));
    const buckets = new Array<number>(8).fill(0);
    for (const d of delays) buckets[Math.floor(d / 4000)]! += 1;
    for (const count of buckets) expect(count).toBeLessThan(250);
  });

  it('counts failures and starts over after a healthy connection', () => {
    const backoff = new ReconnectBackoff(options, () => 0.999);
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([999, 1998, 3996]);
    backoff.reset();
    expect(backoff.next()).toBe(999);
  });

  it('waits at most 8 s while nothing listens at the address (a replica gone), 60 s otherwise', () => {
    const backoff = new ReconnectBackoff(options, () => 0.999);
    const refused = Array.from({ length: 10 }, () => backoff.next(true));
    expect(refused.slice(0, 4)).toEqual([999, 1998, 3996, 7992]);
    expect(Math.max(...refused)).toBe(7992);
    // Then the server answers but fails (overloaded, say): the full cap again, the count kept.
    expect(backoff.next(false)).toBe(59_940);
    // A lower configured cap wins over the refused one.
    const short = new ReconnectBackoff({ minMs: 1000, maxMs: 5000 }, () => 0.999);
    expect(Array.from({ length: 6 }, () => short.next(true)).at(-1)).toBe(4995);
  });

  it("waits at least the server's Retry-After, spread over a quarter more", () => {
    const low = new ReconnectBackoff(options, () => 0);
    expect(low.next(false, 10)).toBe(10_000);
    const high = new ReconnectBackoff(options, () => 0.999);
    expect(high.next(false, 10)).toBe(12_497);
    // A backoff already longer than Retry-After is kept.
    for (let i = 0; i < 8; i += 1) high.next();
    expect(high.next(false, 1)).toBe(59_940);
    expect(readRetryAfter('15')).toBe(15);
    expect(readRetryAfter(['7'])).toBe(7);
    expect(readRetryAfter('999999')).toBe(3600);
    for (const bad of [undefined, '', '-1', '1.5', 'Wed, 21 Oct 2026 07:28:00 GMT'])
      expect(readRetryAfter(bad)).toBeUndefined();
  });
});

describe('nvidia-smi metrics', () => {
  it('parses recorded output, including [N/A] figures from a card that does not report power', () => {
    const stdout = [
      '0, GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90, 37, 1834, 24564, 41, 68.52',
      '1, GPU-0c4e2d1a-9b8f-4e7d-a6c5-3b2a1f0e9d87, 100, 23990, 24564, 83, [N/A]',
      '2, GPU-x, [Not Supported], [N/A], 8192, [N/A], [N/A]',
      '',
      'garbage line',
    ].join('\n');
    expect(parseGpuMetrics(stdout)).toEqual([
      {
        index: 0,
        uuid: 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90',
        utilizationPct: 37,
        memoryUsedBytes: 1834 * 1024 * 1024,
        memoryTotalBytes: 24564 * 1024 * 1024,
        temperatureC: 41,
        powerW: 68.52,
      },
      {
        index: 1,
        uuid: 'GPU-0c4e2d1a-9b8f-4e7d-a6c5-3b2a1f0e9d87',
        utilizationPct: 100,
        memoryUsedBytes: 23990 * 1024 * 1024,
        memoryTotalBytes: 24564 * 1024 * 1024,
        temperatureC: 83,
      },
      {
        index: 2,
        uuid: 'GPU-x',
        utilizationPct: 0,
        memoryUsedBytes: 0,
        memoryTotalBytes: 8192 * 1024 * 1024,
        temperatureC: 0,
      },
    ]);
  });
});

describe('GPU pods from kubectl JSON', () => {
  it('counts running pods with nvidia.com/gpu, by Akash lease id; skips pending and GPU-less pods', () => {
    expect(parseGpuPods(PODS)).toEqual([{ leaseId: LEASE, gpus: 1 }]);
    expect(kubectlPodsArgs('nd-1')).toEqual([
      'kubectl',
      'get',
      'pods',
      '-A',
      '-o',
      'json',
      '--field-selector',
      'spec.nodeName=nd-1',
    ]);
  });

  it('sums a lease over its pods and containers, falls back to the namespace, reads requests when limits are absent', () => {
    const pod = (
      namespace: string,
      gpus: (string | number)[],
      labels: Record<string, string> = {},
      field = 'limits',
    ) => ({
      metadata: { name: 'p', namespace, labels },
      spec: { containers: gpus.map((g) => ({ name: 'c', resources: { [field]: { 'nvidia.com/gpu': g } } })) },
      status: { phase: 'Running' },
    });
    const labels = {
      'akash.network/lease.id.owner': 'akash1o',
      'akash.network/lease.id.dseq': '7',
      'akash.network/lease.id.gseq': '1',
      'akash.network/lease.id.oseq': '2',
      'akash.network/lease.id.provider': 'akash1p',
    };
    const list = {
      kind: 'List',
      items: [
        pod('ns1', ['1', '2'], labels),
        pod('ns1', [1], labels),
        pod('gpu-burn', ['1'], {}, 'requests'),
        pod('x', ['0.5']),
      ],
    };
    expect(parseGpuPods(JSON.stringify(list))).toEqual([
      { leaseId: 'akash1o/7/1/2/akash1p', gpus: 4 },
      { leaseId: 'k8s:gpu-burn', gpus: 1 },
    ]);
    expect(parseGpuPods('{"kind":"List","items":[]}')).toEqual([]);
    expect(() => parseGpuPods('error: the server doesn\'t have a resource type "pods"')).toThrow(
      /not print JSON/,
    );
  });
});

describe('usage windows', () => {
  const t0 = Date.parse('2026-11-02T10:00:00Z');
  it('adds the time since the previous sample per lease, keeps the most GPUs, rounds and caps to the window', () => {
    let w = openWindow(t0);
    for (let i = 1; i <= 5; i += 1) {
      w = addSample(
        w,
        t0 + i * 60_000,
        [{ leaseId: 'a', gpus: i === 3 ? 2 : 1 }, ...(i > 3 ? [{ leaseId: 'b', gpus: 1 }] : [])],
        120_000,
      );
    }
    expect(closeWindow(w, t0 + 300_000)).toEqual({
      from: '2026-11-02T10:00:00.000Z',
      to: '2026-11-02T10:05:00.000Z',
      workloads: [
        { leaseId: 'a', gpus: 2, seconds: 300 },
        { leaseId: 'b', gpus: 1, seconds: 120 },
      ],
    });
  });

  it('does not credit a gap longer than two samples (the agent was stopped)', () => {
    let w = openWindow(t0);
    w = addSample(w, t0 + 60_000, [{ leaseId: 'a', gpus: 1 }], 120_000);
    w = addSample(w, t0 + 60_000 + 30 * 60_000, [{ leaseId: 'a', gpus: 1 }], 120_000);
    expect(closeWindow(w, t0 + 31 * 60_000).workloads).toEqual([{ leaseId: 'a', gpus: 1, seconds: 180 }]);
    expect(closeWindow(openWindow(t0), t0 + 1000).workloads).toEqual([]);
  });
});

describe('daemon odds and ends', () => {
  it('bounds command output to 60 KiB and a frame that fits, even when every character needs escaping', () => {
    const newlines = '\n'.repeat(100_000);
    const bounded = boundOutput(newlines);
    expect(bounded.length).toBeLessThanOrEqual(60 * 1024);
    expect(Buffer.byteLength(JSON.stringify(bounded))).toBeLessThanOrEqual(62 * 1024);
    expect(boundOutput('x'.repeat(70_000), { keep: 'tail' })).toMatch(/^\n\[… cut to fit 60 KiB …\]\nx+$/);
    expect(boundOutput('short')).toBe('short');
    expect(tailLines('a\nb\nc\n', 2)).toBe('b\nc');
  });

  it('reads the server refusal body, and builds ws(s) URLs', () => {
    expect(
      readRefusal(403, '{"error":{"code":"NODE_REVOKED","message":"This machine was removed: x."}}'),
    ).toEqual({
      kind: 'refused',
      status: 403,
      code: 'NODE_REVOKED',
      message: 'This machine was removed: x.',
    });
    expect(
      readRefusal(
        401,
        '{"error":{"code":"UNAUTHENTICATED","message":"clock","details":{"reason":"CLOCK_SKEW"}}}',
      ),
    ).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'CLOCK_SKEW' });
    expect(readRefusal(502, '<html>Bad gateway</html>')).toMatchObject({ code: 'HTTP_502' });
    expect(controlUrl('https://hn.example.com')).toBe('wss://hn.example.com/v1/control');
    expect(controlUrl('http://127.0.0.1:8080/')).toBe('ws://127.0.0.1:8080/v1/control');
  });

  it('digests hardware independently of key order', () => {
    const hw = rtx4090Hardware();
    const reordered = Object.fromEntries(Object.entries(hw).reverse()) as typeof hw;
    expect(hardwareDigest(reordered)).toBe(hardwareDigest(hw));
    expect(hardwareDigest({ ...hw, gpus: [] })).not.toBe(hardwareDigest(hw));
  });

  it('defaults the daemon paths and intervals to the protocol and system locations', () => {
    const config = resolveDaemonConfig({}, '/var/lib/homenode', (...p) => p.join('/'));
    expect(config).toMatchObject({
      remoteShell: true,
      shellCommand: ['/bin/bash', '-l'],
      paths: {
        wireguardDir: '/etc/wireguard',
        k3sConfigPath: '/etc/rancher/k3s/config.yaml',
        spoolDir: '/var/lib/homenode/spool',
        logFile: '/var/lib/homenode/agent.log',
      },
      intervals: {
        heartbeatMs: 15_000,
        usageSampleMs: 60_000,
        usageReportMs: 300_000,
        reconnectMinMs: 1000,
        reconnectMaxMs: 60_000,
      },
    });
  });

  it('draws the status screen in exactly 24 lines of at most 79 columns, for every status', () => {
    const base: DaemonView = {
      nodeId: 'nd_01JBC3ZK5Q9V7W8X2Y4T6R1M0N',
      serverUrl: 'https://enroll.homenode.example.com',
      insecureHttp: false,
      status: 'pending',
      connection: 'waiting',
      retryAt: 12_000,
      lastProblem:
        'the server refused the connection (401 UNAUTHENTICATED): ' +
        'This machine clock is 10 minutes ahead. '.repeat(4),
      spooled: 2,
      shells: 0,
      shellEnabled: false,
      logFile: '/var/lib/homenode/agent.log',
      events: Array.from({ length: 30 }, (_, i) =>
        `10:00:${String(i).padStart(2, '0')} event ${i} `.repeat(5),
      ),
      metrics: {
        load1: 0.5,
        load5: 0.4,
        load15: 0.3,
        memTotalBytes: 64 * 1024 ** 3,
        memUsedBytes: 12 * 1024 ** 3,
        uptimeSeconds: 1,
        gpus: [0, 1, 2].map((index) => ({
          index,
          utilizationPct: 37,
          memoryUsedBytes: 2 * 1024 ** 3,
          memoryTotalBytes: 24 * 1024 ** 3,
          temperatureC: 41,
        })),
      },
    };
    for (const insecureHttp of [false, true])
      for (const status of ['unknown', 'pending', 'approved', 'active', 'rejected', 'revoked'] as const) {
        const lines = renderStatusScreen(
          { ...base, insecureHttp, status, reason: status === 'revoked' ? 'GPU resold. '.repeat(20) : null },
          createStyle(false),
          0,
        );
        expect(lines).toHaveLength(SCREEN_ROWS);
        for (const line of lines) expect(line.length).toBeLessThanOrEqual(79);
        expect(lines.join('\n')).toContain('Connection: lost; trying again in 12 s');
        expect(lines.includes(INSECURE_STATUS_LINE)).toBe(insecureHttp);
      }
    const revoked = renderStatusScreen(
      { ...base, status: 'revoked', reason: 'mining on the side' },
      createStyle(false),
      0,
    );
    expect(revoked.slice(0, 5)).toEqual([
      'Home Node',
      '',
      'Removed by the operations team',
      'Reason: mining on the side',
      expect.stringContaining('no longer connects'),
    ]);
    expect(revoked.join('\n')).toContain('Remote shell: disabled');
    const colour = renderStatusScreen({ ...base, status: 'active' }, createStyle(true), 0);
    expect(colour[2]).toContain('\x1b[32m');
  });
});
