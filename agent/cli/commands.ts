/** The commands other than the enrollment flow: preflight, status, reset, and run's dispatch. */
import { loadAuditRecord } from '../audit/audit-state.js';
import { runDaemon } from '../control/daemon.js';
import { createInstallDeps, installFlow } from '../install/install-flow.js';
import { createStateStore, STATE_FILES, StateFileError } from '../state/state-store.js';
import { lastAuditLines } from '../ui/audit-view.js';
import { renderChecksTable, renderPreflightReport, summarizeChecks } from '../ui/checks-table.js';
import { welcomeScreen } from '../ui/screens.js';
import { EXIT, type AgentContext } from './context.js';
import { enrollFlow } from './enroll-flow.js';
import { gatherPreflight } from './gather-preflight.js';

function print(ctx: AgentContext, lines: readonly string[]): void {
  ctx.out.write(`${lines.join('\n')}\n`);
}

export async function preflightCommand(ctx: AgentContext): Promise<number> {
  const outcome = await gatherPreflight(ctx, { liveServer: !ctx.args.facts });
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

export async function statusCommand(ctx: AgentContext): Promise<number> {
  const store = createStateStore(ctx.config.stateDir);
  const [node, pending, identity, preflight, audit] = await Promise.all([
    store.node.load(),
    store.pending.load(),
    store.identity.load(),
    store.preflight.load(),
    loadAuditRecord(ctx.config.stateDir),
  ]);
  if (ctx.args.json) {
    const status = {
      enrolled: node !== undefined,
      nodeId: node?.nodeId ?? null,
      status: node?.status ?? (pending ? 'enrolling' : 'not-enrolled'),
      serverUrl: node?.serverUrl ?? pending?.serverUrl ?? ctx.config.serverUrl ?? null,
      enrolledAt: node?.enrolledAt ?? null,
      pendingSince: pending?.startedAt ?? null,
      identity: identity ? { createdAt: identity.createdAt, publicKey: identity.publicKey } : null,
      lastPreflight: preflight ?? null,
      lastAudit: audit ? { ...audit, unsentJws: undefined } : null,
    };
    ctx.out.write(`${JSON.stringify(status, null, 2)}\n`);
    return node ? EXIT.OK : EXIT.NOT_ENROLLED;
  }
  const state = node ? node.status : pending ? 'enrolling (interrupted; `run` finishes it)' : 'not enrolled';
  const lines = [
    `Node id:    ${node?.nodeId ?? '-'}`,
    `Server:     ${node?.serverUrl ?? pending?.serverUrl ?? ctx.config.serverUrl ?? '-'}`,
    `Status:     ${state}${node ? ` (as recorded at enrollment, ${node.enrolledAt})` : ''}`,
    `Identity:   ${identity ? `Ed25519 key created ${identity.createdAt}` : 'none yet'}`,
  ];
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

export async function resetCommand(ctx: AgentContext): Promise<number> {
  const store = createStateStore(ctx.config.stateDir);
  const slots = [store.node, store.pending, store.identity, store.preflight];
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
