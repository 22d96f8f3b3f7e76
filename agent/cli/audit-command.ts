/**
 * `agent audit [--json] [--light] [--expect-gpus UUID,…]`: the audit suite on this machine, now.
 * The policy comes from the server (or the defaults); the result is printed as a table (or
 * `{ checks, skipped, … }`) and kept in `audit-last.json`. Exit 0 when no check failed, 1 when one
 * did, 9 when another audit is running on this machine.
 */
import { GPU_UUID_PATTERN } from '../../protocol/audit.js';
import { DEFAULT_POLICY, auditPolicyOf } from '../../protocol/policy.js';
import { runAudit } from '../audit/run-audit.js';
import { probeServer } from '../probe/connectivity.js';
import { createStateStore } from '../state/state-store.js';
import { createExec } from '../system/exec.js';
import { renderAuditReport } from '../ui/audit-view.js';
import { UsageError } from './args.js';
import { EXIT, type AgentContext } from './context.js';

export const AUDIT_BUSY_EXIT = 9;

const UUID = new RegExp(GPU_UUID_PATTERN);

export function parseExpectGpus(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const uuids = text
    .split(',')
    .map((u) => u.trim())
    .filter(Boolean);
  const bad = uuids.find((u) => !UUID.test(u));
  if (bad !== undefined || uuids.length === 0 || uuids.length > 64)
    throw new UsageError(
      `--expect-gpus takes GPU UUIDs as nvidia-smi -L prints them, separated by commas (GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)${bad ? `; "${bad}" is not one` : ''}.`,
    );
  return uuids;
}

export async function auditCommand(ctx: AgentContext): Promise<number> {
  const expect = parseExpectGpus(ctx.args.expectGpus);
  const store = createStateStore(ctx.config.stateDir);
  const [node, identity] = await Promise.all([store.node.load(), store.identity.load()]);
  const serverUrl = ctx.config.serverUrl ?? node?.serverUrl;
  const probed = serverUrl
    ? await probeServer(serverUrl, { http: ctx.http, resolve: ctx.resolve, now: ctx.now })
    : undefined;
  const policy = probed?.policy ?? { ...DEFAULT_POLICY };
  const policySource = probed?.policy ? 'server' : 'defaults';
  const minutes = Math.round(auditPolicyOf(policy).limits.maxSeconds / 60);
  ctx.err.write(
    ctx.style.dim(
      `Auditing this machine (at most ${minutes} min). Policy: ${policySource === 'server' ? `from ${serverUrl}` : 'built-in defaults'}.\n`,
    ),
  );
  const run = await runAudit({
    exec: createExec(),
    policy,
    stateDir: ctx.config.stateDir,
    heavy: !ctx.args.light,
    expectGpus: expect ? { uuids: expect, source: 'given with --expect-gpus' } : undefined,
    server: serverUrl ? { url: serverUrl, serverPin: ctx.config.serverPin } : undefined,
    node: node && identity ? { nodeId: node.nodeId, identity } : undefined,
    now: ctx.now,
    sleep: ctx.sleep,
    trigger: 'local',
    onProgress: (id, done, total) => ctx.err.write(ctx.style.dim(`  [${done + 1}/${total}] ${id}\n`)),
  });
  if (run.kind === 'busy') {
    ctx.err.write(
      `${ctx.style.red('Another audit is running on this machine')} (${run.what}${run.pid ? `, process ${run.pid}` : ''}). Wait for it to finish, then try again.\n`,
    );
    return AUDIT_BUSY_EXIT;
  }
  const { result, passed } = run;
  if (ctx.args.json) {
    const { checks, skipped, startedAt, finishedAt } = result;
    ctx.out.write(
      `${JSON.stringify({ checks, skipped, startedAt, finishedAt, passed, policySource }, null, 2)}\n`,
    );
  } else {
    const lines = renderAuditReport(
      { checks: result.checks, skipped: result.skipped, finishedAt: result.finishedAt },
      ctx.out.width,
      ctx.style,
    );
    ctx.out.write(`${lines.join('\n')}\n`);
  }
  return passed ? EXIT.OK : EXIT.CHECK_FAILED;
}
