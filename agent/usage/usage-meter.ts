/**
 * Workload metering: every sample interval, the GPU pods on this node (through
 * `k3s kubectl get pods`) are added to the current window; every report interval the window
 * becomes a signed usage report with the next persisted seq, spooled until the server acks it.
 * Sampling starts once the node has joined (its Kubernetes node name is known).
 */
import { CompactSign, importJWK } from 'jose';
import type { UsageReportPayload } from '../../protocol/control.js';
import type { Identity } from '../state/state-store.js';
import type { Exec } from '../system/exec.js';
import { kubectlPodsArgs, parseGpuPods } from './gpu-pods.js';
import type { SpooledReport, UsageSpool } from './usage-spool.js';
import { addSample, closeWindow, openWindow, type UsageWindow } from './usage-window.js';

export async function signPayload(identity: Identity, payload: unknown): Promise<string> {
  const key = await importJWK(identity.privateKey, 'EdDSA');
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA' })
    .sign(key);
}

export interface UsageMeterDeps {
  nodeId: string;
  identity: Identity;
  exec: Exec;
  spool: UsageSpool;
  now: () => number;
  sampleMs: number;
  reportMs: number;
  /** The Kubernetes node name once joined. */
  nodeName: () => string | undefined;
  /** A report was spooled: send it if the channel is up. */
  onReport: (report: SpooledReport) => void;
  log: (level: 'info' | 'warn', event: string, message: string) => void;
}

export function startUsageMeter(deps: UsageMeterDeps) {
  let window: UsageWindow = openWindow(deps.now());
  let lastProblem = '';
  let busy = Promise.resolve();

  async function sample(): Promise<void> {
    const nodeName = deps.nodeName();
    const at = deps.now();
    if (!nodeName) {
      window = openWindow(at);
      return;
    }
    const result = await deps.exec('k3s', kubectlPodsArgs(nodeName), {
      timeoutMs: Math.min(30_000, deps.sampleMs),
    });
    let workloads: ReturnType<typeof parseGpuPods> = [];
    let problem = result.ok ? '' : result.problem;
    if (result.ok) {
      try {
        workloads = parseGpuPods(result.stdout);
      } catch (error) {
        problem = `k3s kubectl: ${error instanceof Error ? error.message : String(error)}`;
      }
    }
    if (problem && problem !== lastProblem)
      deps.log(
        'warn',
        'usage_sample_failed',
        `Could not list the GPU workloads: ${problem}. Counted as none.`,
      );
    lastProblem = problem;
    window = addSample(window, deps.now(), workloads, deps.sampleMs * 2);
  }

  async function report(): Promise<void> {
    const to = deps.now();
    const closing = window;
    window = openWindow(to);
    if (closing.samples === 0) return;
    const { from, workloads } = closeWindow(closing, to);
    const seq = await deps.spool.takeSeq();
    const payload: UsageReportPayload = {
      nodeId: deps.nodeId,
      seq,
      from,
      to: new Date(to).toISOString(),
      workloads,
    };
    const entry = { seq, report: await signPayload(deps.identity, payload) };
    await deps.spool.put(entry);
    deps.log(
      'info',
      'usage_spooled',
      `Usage report ${seq} (${workloads.length} workloads) is ready to send.`,
    );
    deps.onReport(entry);
  }

  const serial = (task: () => Promise<void>) => () => {
    busy = busy.then(task).catch((error: unknown) => {
      deps.log(
        'warn',
        'usage_failed',
        `Usage metering failed: ${error instanceof Error ? error.message : String(error)}`,
      );
    });
  };
  const sampleTimer = setInterval(serial(sample), deps.sampleMs);
  const reportTimer = setInterval(serial(report), deps.reportMs);
  return {
    stop(): Promise<void> {
      clearInterval(sampleTimer);
      clearInterval(reportTimer);
      return busy;
    },
  };
}
