/** The commands other than the enrollment flow: preflight, status, reset, and run's dispatch. */
import { checkServerUrl } from '../../protocol/server-url.js';
import { loadAuditRecord } from '../audit/audit-state.js';
import { runDaemon } from '../control/daemon.js';
import { createInstallDeps, installFlow } from '../install/install-flow.js';
import {
  createStateStore,
  type LiveStatus,
  type NodeRecord,
  STATE_FILES,
  StateFileError,
} from '../state/state-store.js';
import { lastAuditLines } from '../ui/audit-view.js';
import { renderChecksTable, renderPreflightReport, summarizeChecks } from '../ui/checks-table.js';
import { wrapIndented } from '../ui/output.js';
import { insecureHttpWarning, welcomeScreen } from '../ui/screens.js';
import { EXIT, type AgentContext } from './context.js';
import { enrollFlow } from './enroll-flow.js';
import { gatherPreflight } from './gather-preflight.js';

function print(ctx: AgentContext, lines: readonly string[]): void {
  ctx.out.write(`${lines.join('\n')}\n`);
}

export async function preflightCommand(ctx: AgentContext): Promise<number> {
  const outcome = await gatherPreflight(ctx, { liveServer: !ctx.args.facts });
  if (ctx.config.insecureHttp && ctx.config.serverUrl) {
    const warning = insecureHttpWarning(ctx.config.serverUrl, ctx.out.width, ctx.style);
    (ctx.args.json ? ctx.err : ctx.out).write(`${warning.join('\n')}\n\n`);
  }
  if (ctx.args.json) {
    const { checks, facts, fingerprint, policySource } = outcome;
    ctx.out.write(`${JSON.stringify({ checks, facts, fingerprint, policySource }, null, 2)}\n`);
  } else {
    const source =
      outcome.policySource === 'server'
        ? `Policy: from ${ctx.config.serverUrl ?? 'the server'}`
        : `Policy: built-in defaults${ctx.config.serverUrl ? ' (the server could not be asked)' : ' (no server configured)'}`;
    const what = ctx.args.facts ? `Facts: ${ctx.args.facts}` : 'Facts: this machine';
    print(ctx, [
      ctx.style.dim(`${what}. ${source}.`),
      '',
      ...renderPreflightReport(outcome.checks, outcome.facts.notes ?? [], ctx.out.width, ctx.style),
    ]);
  }
  return outcome.failed ? EXIT.CHECK_FAILED : EXIT.OK;
}

/** The node's status: the live one the daemon last heard from the server, else the enrollment's. */
function currentStatus(node: NodeRecord, live: LiveStatus | undefined) {
  return live && live.nodeId === node.nodeId
    ? { status: live.status, reason: live.reason, learnedAt: live.learnedAt, source: 'server' as const }
    : { status: node.status, reason: null, learnedAt: node.enrolledAt, source: 'enrollment' as const };
}

export async function statusCommand(ctx: AgentContext): Promise<number> {
  const store = createStateStore(ctx.config.stateDir);
  const [node, pending, identity, preflight, live, audit] = await Promise.all([
    store.node.load(),
    store.pending.load(),
    store.identity.load(),
    store.preflight.load(),
    store.live.load(),
    loadAuditRecord(ctx.config.stateDir),
  ]);
  const current = node ? currentStatus(node, live) : undefined;
  const serverUrl = node?.serverUrl ?? pending?.serverUrl ?? ctx.config.serverUrl;
  // Reported, not enforced here: is the URL this node uses plain http to another machine?
  const checked = serverUrl ? checkServerUrl(serverUrl, { allowInsecureHttp: true }) : undefined;
  const insecureHttp = checked?.ok === true && checked.insecure;
  if (ctx.args.json) {
    const status = {
      enrolled: node !== undefined,
      nodeId: node?.nodeId ?? null,
      status: current?.status ?? (pending ? 'enrolling' : 'not-enrolled'),
      statusReason: current?.reason ?? null,
      statusLearnedAt: current?.learnedAt ?? null,
      statusSource: current?.source ?? null,
      serverUrl: serverUrl ?? null,
      insecureHttp,
      enrolledAt: node?.enrolledAt ?? null,
      pendingSince: pending?.startedAt ?? null,
      identity: identity ? { createdAt: identity.createdAt, publicKey: identity.publicKey } : null,
      lastPreflight: preflight ?? null,
      lastAudit: audit ? { ...audit, unsentJws: undefined } : null,
    };
    ctx.out.write(`${JSON.stringify(status, null, 2)}\n`);
    return node ? EXIT.OK : EXIT.NOT_ENROLLED;
  }
  const lines = [
    `Node id:    ${node?.nodeId ?? '-'}`,
    `Server:     ${serverUrl ?? '-'}`,
    ...wrapIndented('Status:     ', statusText(current, pending !== undefined), ctx.out.width),
    `Identity:   ${identity ? `Ed25519 key created ${identity.createdAt}` : 'none yet'}`,
  ];
  if (insecureHttp && serverUrl)
    lines.push('', ...insecureHttpWarning(serverUrl, ctx.out.width, ctx.style), '');
  if (preflight) {
    const { pass, warn, fail } = summarizeChecks(preflight.checks);
    lines.push(`Preflight:  ${preflight.at}: ${pass} passed, ${warn} warnings, ${fail} failed`, '');
    lines.push(...renderChecksTable(preflight.checks, ctx.out.width, ctx.style));
  } else {
    lines.push('Preflight:  not run yet');
  }
  lines.push('', ...lastAuditLines(audit, ctx.out.width, 16));
  print(ctx, lines);
  return node ? EXIT.OK : EXIT.NOT_ENROLLED;
}

function statusText(current: ReturnType<typeof currentStatus> | undefined, pending: boolean): string {
  if (!current) return pending ? 'enrolling (interrupted; `run` finishes it)' : 'not enrolled';
  const reason = current.reason ? `: ${current.reason}` : '';
  return current.source === 'server'
    ? `${current.status}${reason} (as the server said at ${current.learnedAt})`
    : `${current.status} (as recorded at enrollment, ${current.learnedAt}; the agent has not heard from the server since: \`run\` connects)`;
}

export async function resetCommand(ctx: AgentContext): Promise<number> {
  const store = createStateStore(ctx.config.stateDir);
  const slots = [store.node, store.pending, store.identity, store.preflight, store.live];
  if (!ctx.args.yes) {
    print(ctx, [
      `This forgets this machine's identity and enrollment (${Object.values(STATE_FILES).join(', ')} in ${ctx.config.stateDir}).`,
      'The server keeps the node; enrolling the same machine again for the same owner is a re-install.',
      'Run again with --yes to do it.',
    ]);
    return EXIT.USAGE;
  }
  const removed: string[] = [];
  for (const slot of slots) if (await slot.clear()) removed.push(slot.path);
  print(ctx, removed.length ? ['Removed:', ...removed.map((p) => `  ${p}`)] : ['Nothing to remove.']);
  return EXIT.OK;
}

/** `run`: the first-boot flow until enrolled, then (and on every later start) the daemon. */
export async function runCommand(ctx: AgentContext): Promise<number> {
  const store = createStateStore(ctx.config.stateDir);
  let node = await store.node.load();
  if (!node) {
    if (!(await store.pending.load()) && ctx.interactive) print(ctx, welcomeScreen(ctx.out.width, ctx.style));
    const code = await enrollFlow(ctx);
    node = await store.node.load();
    if (code !== EXIT.OK || !node) return code;
  }
  const identity = await store.identity.load();
  if (!identity) {
    throw new StateFileError(`${store.identity.path} is missing although this machine is enrolled`);
  }
  // On the live medium (boot=live): offer to install to a disk first (agent/install, docs/iso.md).
  const installDeps = createInstallDeps({
    input: process.stdin,
    output: process.stdout,
    write: (text) => ctx.out.write(text),
  });
  const installed = await installFlow(ctx, installDeps);
  if (installed !== undefined) return installed;
  return runDaemon(ctx, node, identity);
}
