/**
 * `gpu-runtime`: k3s's containerd has an `nvidia` runtime handler (`k3s crictl info`), and a
 * container started through that handler sees every GPU the driver sees (`nvidia-smi -L`, which
 * the NVIDIA runtime injects into any image). The pod uses the host network (no CNI needed) and
 * is removed afterwards. Skipped until the node has joined; the container part is skipped while a
 * workload uses the GPU or when the audit is light.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IMAGE_REFERENCE_PATTERN } from '../../protocol/audit-policy.js';
import { busyReason, timeoutMs, type AuditContext } from './context.js';
import { skip, verdict, type CheckOutcome, type Verdict } from './finding.js';

export const RUNTIME_HANDLER = 'nvidia';
const CONTAINER_ID = /^[0-9a-f]{12,64}$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The runtime handlers in `crictl info` (containerd 1.7 `config.containerd.runtimes`, 2.x `runtimeHandlers`). */
export function runtimeHandlers(infoJson: string): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(infoJson);
  } catch {
    throw new Error('crictl info did not print JSON');
  }
  if (!isObject(doc)) throw new Error('crictl info did not print an object');
  const names = new Set<string>();
  const config = isObject(doc.config) ? doc.config : {};
  const containerd = isObject(config.containerd) ? config.containerd : {};
  if (isObject(containerd.runtimes)) for (const name of Object.keys(containerd.runtimes)) names.add(name);
  const handlers = Array.isArray(doc.runtimeHandlers) ? doc.runtimeHandlers : [];
  for (const h of handlers) if (isObject(h) && typeof h.name === 'string' && h.name) names.add(h.name);
  return [...names].sort();
}

/** GPU UUIDs in `nvidia-smi -L` output (`GPU 0: NVIDIA GeForce RTX 4090 (UUID: GPU-…)`). */
export function parseSmiList(text: string): string[] {
  return [...text.matchAll(/\(UUID: (GPU-[0-9a-fA-F-]{36})\)/g)].map((m) => m[1] ?? '');
}

export function podSandboxConfig(uid: string, logDirectory: string): Json {
  return {
    metadata: { name: 'homenode-audit', namespace: 'homenode-audit', uid, attempt: 1 },
    log_directory: logDirectory,
    // NODE network namespace: the test needs no pod network.
    linux: { security_context: { namespace_options: { network: 2 } } },
  };
}

export function containerConfig(image: string): Json {
  return {
    metadata: { name: 'nvidia-smi' },
    image: { image },
    command: ['nvidia-smi', '-L'],
    envs: [
      { key: 'NVIDIA_VISIBLE_DEVICES', value: 'all' },
      { key: 'NVIDIA_DRIVER_CAPABILITIES', value: 'utility' },
    ],
    log_path: 'nvidia-smi.log',
    linux: {},
  };
}

export function assessContainerView(
  visible: readonly string[],
  seen: readonly string[],
  image: string,
): Verdict {
  const lower = new Set(visible.map((u) => u.toLowerCase()));
  const unseen = seen.filter((u) => !lower.has(u.toLowerCase()));
  const metrics = { gpuRuntimeVisibleGpus: visible.length };
  if (unseen.length === 0)
    return verdict(
      'pass',
      `A container sees ${visible.length === 1 ? 'the GPU' : `all ${visible.length} GPUs`} through the ${RUNTIME_HANDLER} runtime`,
      `${image} ran nvidia-smi -L through the "${RUNTIME_HANDLER}" runtime handler and listed ${visible.join(', ')}.`,
      '',
      metrics,
    );
  return verdict(
    'fail',
    `A container sees ${visible.length} of ${seen.length} GPUs`,
    `A test container started through the "${RUNTIME_HANDLER}" runtime did not see ${unseen.join(', ')}; workloads on this machine would not get their GPU.`,
    'Restart the machine. If this comes back, contact support: the NVIDIA container runtime needs repair.',
    metrics,
  );
}

class StepFailed extends Error {}

async function crictl(ctx: AuditContext, args: string[], wantedMs: number): Promise<string> {
  const result = await ctx.exec('k3s', ['crictl', ...args], { timeoutMs: timeoutMs(ctx, wantedMs) });
  if (!result.ok) throw new StepFailed(`k3s crictl ${args[0] ?? ''}: ${result.problem}`);
  return result.stdout;
}

const idFrom = (stdout: string, what: string): string => {
  const id = stdout.trim().split('\n').at(-1)?.trim() ?? '';
  if (!CONTAINER_ID.test(id)) throw new StepFailed(`crictl printed no ${what} id`);
  return id;
};

/** Start the container, wait for it to exit, return what it printed. Always removes the pod. */
async function runTestContainer(ctx: AuditContext, image: string): Promise<string> {
  const dir = await mkdtemp(join(ctx.dataDir, 'homenode-audit-pod-'));
  let podId: string | undefined;
  try {
    const podPath = join(dir, 'pod.json');
    const ctrPath = join(dir, 'container.json');
    await writeFile(
      podPath,
      JSON.stringify(podSandboxConfig(randomBytes(8).toString('hex'), join(dir, 'logs'))),
      { mode: 0o600 },
    );
    await writeFile(ctrPath, JSON.stringify(containerConfig(image)), { mode: 0o600 });
    await crictl(ctx, ['pull', image], 180_000);
    podId = idFrom(await crictl(ctx, ['runp', '--runtime', RUNTIME_HANDLER, podPath], 60_000), 'pod');
    const containerId = idFrom(await crictl(ctx, ['create', podId, ctrPath, podPath], 60_000), 'container');
    await crictl(ctx, ['start', containerId], 30_000);
    const until = ctx.now() + 30_000;
    for (;;) {
      const state = JSON.parse(await crictl(ctx, ['inspect', '-o', 'json', containerId], 10_000)) as unknown;
      const status = isObject(state) && isObject(state.status) ? state.status : {};
      if (status.state === 'CONTAINER_EXITED') {
        const logs = await crictl(ctx, ['logs', containerId], 10_000);
        if (status.exitCode !== 0)
          throw new StepFailed(
            `nvidia-smi in the container exited with ${String(status.exitCode)}: ${logs.trim().split('\n')[0] ?? ''}`,
          );
        return logs;
      }
      if (ctx.now() > until) throw new StepFailed('the test container did not finish within 30 s');
      await ctx.sleep(500);
    }
  } finally {
    if (podId) {
      await ctx.exec('k3s', ['crictl', 'stopp', podId], { timeoutMs: 30_000 });
      await ctx.exec('k3s', ['crictl', 'rmp', '-f', podId], { timeoutMs: 30_000 });
    }
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runGpuRuntimeCheck(ctx: AuditContext): Promise<CheckOutcome> {
  if (!ctx.nodeName)
    return skip('This machine has not joined the cluster yet, so there is no container runtime to check.');
  let handlers: string[];
  try {
    handlers = runtimeHandlers(await crictl(ctx, ['info'], 15_000));
  } catch (error) {
    return verdict(
      'fail',
      'The container runtime does not answer',
      `${error instanceof Error ? error.message : String(error)}. Workloads cannot start on this machine.`,
      'Restart the machine. If this comes back, contact support.',
    );
  }
  if (!handlers.includes(RUNTIME_HANDLER))
    return verdict(
      'fail',
      `The container runtime has no "${RUNTIME_HANDLER}" handler`,
      `k3s's containerd knows the runtimes ${handlers.join(', ') || '(none)'}; GPU workloads ask for "${RUNTIME_HANDLER}". k3s adds it at start when the NVIDIA container toolkit is installed.`,
      'Restart the machine (k3s looks for the NVIDIA runtime when it starts). If this comes back, contact support: the NVIDIA container toolkit must be installed.',
    );
  const registered = `The "${RUNTIME_HANDLER}" runtime handler is registered`;
  const seen = ctx.seen.gpuUuids ?? [];
  if (ctx.busyLeases.length)
    return verdict('pass', registered, `Container test skipped: ${busyReason(ctx.busyLeases)}.`, '');
  if (!ctx.heavy) return verdict('pass', registered, 'Container test skipped: this was a light audit.', '');
  if (seen.length === 0)
    return verdict(
      'pass',
      registered,
      'Container test skipped: the driver sees no GPU to look for (see the gpu check).',
      '',
    );
  const image = ctx.policy.gpuRuntimeImage;
  if (!new RegExp(IMAGE_REFERENCE_PATTERN).test(image))
    return verdict(
      'warn',
      registered,
      `Container test skipped: the policy names an image that is not valid (${JSON.stringify(image)}).`,
      'Nothing to do: the operations team fixes the policy.',
    );
  try {
    return assessContainerView(parseSmiList(await runTestContainer(ctx, image)), seen, image);
  } catch (error) {
    if (!(error instanceof StepFailed) && !(error instanceof SyntaxError)) throw error;
    return verdict(
      'fail',
      `A container could not use the GPU through the "${RUNTIME_HANDLER}" runtime`,
      `${error.message}.`,
      'Check that the machine is online (the test image is downloaded once), then restart it. If this comes back, contact support.',
    );
  }
}
