/** `run-preflight` for ops: probe and assess this machine now, the checks as plain text. */
import type { AgentContext } from '../cli/context.js';
import { gatherPreflight } from '../cli/gather-preflight.js';
import { renderPreflightReport } from '../ui/checks-table.js';
import { createStyle } from '../ui/output.js';

export async function preflightText(ctx: AgentContext): Promise<{ text: string; failed: boolean }> {
  const outcome = await gatherPreflight(ctx, { liveServer: true });
  const lines = renderPreflightReport(outcome.checks, outcome.facts.notes ?? [], 100, createStyle(false));
  return { text: lines.join('\n'), failed: outcome.failed };
}
