/**
 * The enrollment flow shared by `run` and `enroll`: resume an interrupted request, run the checks,
 * take the key (flag, HOMENODE_KEY or prompt), persist identity and request, send, show the result.
 */
import { parseInstallationKey } from '../../protocol/key.js';
import { sendEnrollment, beginEnrollment, buildEnrollRequest, type EnrollResult } from '../enroll/enroll.js';
import { loadOrCreateIdentity } from '../state/identity.js';
import { createStateStore, type PendingEnrollment, type StateStore } from '../state/state-store.js';
import { renderPreflightReport } from '../ui/checks-table.js';
import { createCountdownWait } from '../ui/countdown.js';
import { explainRefusal } from '../ui/refusal.js';
import {
  enrolledScreen,
  gaveUpScreen,
  insecureHttpWarning,
  preflightStoppedScreen,
  refusedScreen,
} from '../ui/screens.js';
import { UsageError } from './args.js';
import { requireServerUrl } from './config.js';
import { EXIT, type AgentContext } from './context.js';
import { gatherPreflight, type PreflightOutcome } from './gather-preflight.js';

function print(ctx: AgentContext, lines: readonly string[]): void {
  ctx.out.write(`${lines.join('\n')}\n`);
}

async function send(ctx: AgentContext, store: StateStore, pending: PendingEnrollment): Promise<EnrollResult> {
  return sendEnrollment(pending, {
    store,
    http: ctx.http,
    now: ctx.now,
    random: ctx.random,
    wait: createCountdownWait(ctx.out, ctx.style, ctx.sleep),
    maxAttempts: ctx.config.retry.maxAttempts,
    backoff: ctx.config.retry.backoff,
    onAttempt: (attempt) =>
      ctx.out.write(
        attempt === 1
          ? `Enrolling with ${pending.serverUrl} ...\n`
          : `Trying again (attempt ${attempt}) ...\n`,
      ),
  });
}

/** Show a result; the exit code, or undefined when another key may be tried. */
function showResult(ctx: AgentContext, result: EnrollResult, canAskAgain: boolean): number | undefined {
  const { width } = ctx.out;
  if (result.kind === 'enrolled') {
    print(ctx, enrolledScreen(result.node, width, ctx.style));
    return EXIT.OK;
  }
  if (result.kind === 'gave-up') {
    print(ctx, gaveUpScreen(result.attempts, result.reason, width, ctx.style));
    return EXIT.UNREACHABLE;
  }
  print(ctx, refusedScreen(result, width, ctx.style));
  const isKeyProblem = result.code.startsWith('KEY_');
  if (canAskAgain && explainRefusal(result.code, result.message).anotherKeyHelps) return undefined;
  return isKeyProblem ? EXIT.KEY_REFUSED : EXIT.ENROLL_REFUSED;
}

/** The key to use: given (flag or env) and valid, prompted, or a usage error without a terminal. */
async function obtainKey(
  ctx: AgentContext,
  given: string | undefined,
): Promise<{ key: string } | { exit: number }> {
  if (given !== undefined) {
    const parsed = parseInstallationKey(given);
    if (parsed.ok) return { key: parsed.text };
    print(ctx, ['', ctx.style.red(parsed.message), 'Nothing was sent to the server.']);
    return { exit: EXIT.KEY_REFUSED };
  }
  if (!ctx.interactive) {
    throw new UsageError('No installation key: pass --key KEY or set HOMENODE_KEY (or run on a terminal).');
  }
  ctx.out.write('Type the installation key shown on the website (HN-XXXX-XXXX-XXXX-XXXX-XXXX).\n');
  return { key: await ctx.askKey('Installation key:') };
}

async function enrollWithKeys(
  ctx: AgentContext,
  store: StateStore,
  preflight: PreflightOutcome,
): Promise<number> {
  let given = ctx.args.key ?? ctx.envKey;
  for (;;) {
    const obtained = await obtainKey(ctx, given);
    if ('exit' in obtained) return obtained.exit;
    const serverUrl = requireServer(ctx);
    const identity = await loadOrCreateIdentity(store, ctx.now);
    const request = buildEnrollRequest({
      installationKey: obtained.key,
      identity,
      fingerprint: preflight.fingerprint,
      hardware: preflight.facts.hardware,
      checks: preflight.checks,
    });
    const pending = await beginEnrollment(store, serverUrl, request, ctx.now);
    const canAskAgain = given === undefined && ctx.interactive;
    const exit = showResult(ctx, await send(ctx, store, pending), canAskAgain);
    if (exit !== undefined) return exit;
    given = undefined;
    ctx.out.write('\n');
  }
}

function requireServer(ctx: AgentContext): string {
  if (!ctx.config.serverUrl) {
    throw new UsageError('No server: pass --server URL or set serverUrl in the config file.');
  }
  return ctx.config.serverUrl;
}

export async function enrollFlow(ctx: AgentContext): Promise<number> {
  const store = createStateStore(ctx.config.stateDir);
  const node = await store.node.load();
  if (node) {
    print(ctx, ['This machine is already enrolled.', ...enrolledScreen(node, ctx.out.width, ctx.style)]);
    return EXIT.OK;
  }
  const serverUrl = requireServer(ctx);
  if (ctx.config.insecureHttp) print(ctx, [...insecureHttpWarning(serverUrl, ctx.out.width, ctx.style), '']);
  const pending = await store.pending.load();
  if (pending) {
    // A request begun under another URL obeys the same rule as the configured one.
    requireServerUrl(pending.serverUrl, ctx.config.allowInsecureHttp, ctx.config.serverPin);
    ctx.out.write(`Finishing the enrollment started at ${pending.startedAt} (same key, same identity).\n`);
    const exit = showResult(ctx, await send(ctx, store, pending), true);
    if (exit !== undefined) return exit;
  }
  ctx.out.write('Checking this machine ...\n');
  const preflight = await gatherPreflight(ctx, { liveServer: true });
  print(ctx, [
    '',
    ...renderPreflightReport(preflight.checks, preflight.facts.notes ?? [], ctx.out.width, ctx.style),
    '',
  ]);
  if (preflight.failed) {
    print(ctx, preflightStoppedScreen(preflight.checks, ctx.agentCommand, ctx.out.width, ctx.style));
    return EXIT.CHECK_FAILED;
  }
  return enrollWithKeys(ctx, store, preflight);
}
