/** The heartbeat's figures: load, memory and uptime from the OS, GPUs from nvidia-smi. */
import os from 'node:os';
import type { NodeMetrics } from '../../protocol/control.js';
import type { Exec } from '../system/exec.js';
import { GPU_METRICS_ARGS, parseGpuMetrics } from './gpu-metrics.js';

export async function collectMetrics(exec: Exec): Promise<NodeMetrics> {
  const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
  const total = os.totalmem();
  const smi = await exec('nvidia-smi', GPU_METRICS_ARGS, { timeoutMs: 10_000 });
  return {
    load1,
    load5,
    load15,
    memTotalBytes: total,
    memUsedBytes: Math.max(0, total - os.freemem()),
    uptimeSeconds: Math.round(os.uptime()),
    gpus: smi.ok ? parseGpuMetrics(smi.stdout).slice(0, 64) : [],
  };
}
