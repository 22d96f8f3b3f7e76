/** Facts (this machine's, or a saved file's), the policy (the server's, or the defaults) and the checks. */
import { readFile } from 'node:fs/promises';
import { Compile } from 'typebox/compile';
import type { Check } from '../../protocol/hardware.js';
import { DEFAULT_POLICY, type Policy } from '../../protocol/policy.js';
import { assessPreflight, hasFailure } from '../../protocol/preflight.js';
import { probeServer } from '../probe/connectivity.js';
import { AgentFactsSchema, type AgentFacts, type ProbeNote } from '../probe/facts.js';
import { computeFingerprint, fingerprintInputs } from '../probe/fingerprint.js';
import { probeHardware } from '../probe/probe-hardware.js';
import { createStateStore } from '../state/state-store.js';
import { UsageError } from './args.js';
import type { AgentContext } from './context.js';

const FactsFile = Compile(AgentFactsSchema);

export interface PreflightOutcome {
  facts: AgentFacts;
  checks: Check[];
  policy: Policy;
  policySource: 'server' | 'defaults';
  fingerprint: string;
  failed: boolean;
}

export async function loadFactsFile(path: string): Promise<AgentFacts> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(
      `Cannot read the facts file ${path}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  // `preflight --json` output may be passed whole: take its `facts`.
  if (typeof value === 'object' && value !== null && 'facts' in value && !('hardware' in value))
    value = value.facts;
  if (!FactsFile.Check(value)) {
    const first = FactsFile.Errors(value)[0];
    throw new UsageError(
      `The facts file ${path} is not valid at ${first?.instancePath || '/'}: ${first?.message ?? ''}`,
    );
  }
  return value;
}

/** Add what the probe could not do to the GPU check, so a missing program explains a failure. */
export function annotateChecks(checks: Check[], notes: readonly ProbeNote[]): Check[] {
  if (!notes.length) return checks;
  return checks.map((check) =>
    check.id === 'gpu' && check.status !== 'pass'
      ? { ...check, detail: [check.detail, ...notes.map((n) => n.message)].join(' ').trim().slice(0, 4096) }
      : check,
  );
}

/**
 * `liveServer`: probe the server now (enroll, run, plain preflight). Without it, connectivity
 * comes from the facts file as recorded, and the server is asked only for its policy.
 */
export async function gatherPreflight(
  ctx: AgentContext,
  options: { liveServer: boolean },
): Promise<PreflightOutcome> {
  const { serverUrl } = ctx.config;
  const fromFile = ctx.args.facts ? await loadFactsFile(ctx.args.facts) : undefined;
  const [base, server] = await Promise.all([
    fromFile ?? probeLocalFacts(ctx),
    serverUrl ? probeServer(serverUrl, { http: ctx.http, resolve: ctx.resolve, now: ctx.now }) : undefined,
  ]);
  const live = !fromFile || options.liveServer;
  const facts: AgentFacts = live && server ? { ...base, connectivity: server.connectivity } : base;
  const policy = server?.policy ?? { ...DEFAULT_POLICY };
  const checks = annotateChecks(assessPreflight(facts, policy), facts.notes ?? []);
  const fingerprint = computeFingerprint(
    fingerprintInputs(facts.hardware, facts.identifiers?.boardUuid ?? ''),
  );
  const outcome: PreflightOutcome = {
    facts,
    checks,
    policy,
    policySource: server?.policy ? 'server' : 'defaults',
    fingerprint,
    failed: hasFailure(checks),
  };
  if (live) await recordPreflight(ctx, outcome);
  return outcome;
}

async function probeLocalFacts(ctx: AgentContext): Promise<AgentFacts> {
  const local = await probeHardware(ctx.runProgram);
  return { hardware: local.hardware, identifiers: { boardUuid: local.boardUuid }, notes: local.notes };
}

async function recordPreflight(ctx: AgentContext, outcome: PreflightOutcome): Promise<void> {
  const store = createStateStore(ctx.config.stateDir);
  const record = {
    at: new Date(ctx.now()).toISOString(),
    failed: outcome.failed,
    checks: outcome.checks,
    ...(ctx.config.serverUrl ? { serverUrl: ctx.config.serverUrl } : {}),
  };
  try {
    await store.preflight.save(record);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    ctx.err.write(ctx.style.dim(`(The result could not be saved in ${ctx.config.stateDir}: ${reason})\n`));
  }
}
