/**
 * Audit results for people (pure): the full report as a table that fits 80 columns (like the
 * preflight table, plus the troubleshooting link and the skipped checks), and the few lines the
 * daemon's status screen and `status` show about the last audit: its failed checks with their fix.
 */
import type { AuditCheck, AuditSkip } from '../../protocol/audit.js';
import { renderChecksTable, summarizeChecks } from './checks-table.js';
import { wrapIndented, wrapText, type Style } from './output.js';

const INDENT = ' '.repeat(23);

export interface AuditView {
  checks: readonly AuditCheck[];
  skipped: readonly AuditSkip[];
  finishedAt: string;
}

/** The guide's link on one line (a wrapped URL cannot be followed): under the fix, or less indented. */
function moreLine(url: string, width: number): string {
  const indented = `${INDENT}More: ${url}`;
  return indented.length <= width ? indented : `  More: ${url}`;
}

export function renderAuditReport(view: AuditView, width: number, style: Style): string[] {
  const lines = [style.bold('Audit'), ''];
  for (const check of view.checks) {
    lines.push(...renderChecksTable([check], width, style));
    if (check.status !== 'pass' && check.docUrl) lines.push(style.dim(moreLine(check.docUrl, width)));
  }
  for (const s of view.skipped) {
    const lead = `[skip] ${s.id.padEnd(15)} `;
    lines.push(...wrapIndented(lead, s.reason, width).map((l) => style.dim(l)));
  }
  const { pass, warn, fail } = summarizeChecks(view.checks);
  const tally = `${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed, ${view.skipped.length} skipped.`;
  const verdict = fail
    ? `${tally} Fix the failed checks above; the next audit checks again.`
    : `${tally} This machine passed the audit.`;
  lines.push('', ...wrapText(verdict, width).map((l) => (fail ? style.red(l) : style.green(l))));
  return lines;
}

/**
 * The status screen's audit lines: one line when it passed; otherwise the failed checks, each with
 * its fix (wrapped, at most `maxLines` lines in all).
 */
export function lastAuditLines(view: AuditView | undefined, width: number, maxLines: number): string[] {
  if (!view) return ['Audit:      not run yet'];
  const when = view.finishedAt.slice(0, 16).replace('T', ' ');
  const failed = view.checks.filter((c) => c.status === 'fail');
  if (failed.length === 0) return [`Audit:      passed (${when} UTC)`.slice(0, width)];
  const lines = [`Audit:      FAILED (${when} UTC): ${failed.map((c) => c.id).join(', ')}`.slice(0, width)];
  for (const check of failed) {
    lines.push(...wrapIndented(`  ${check.id}: `, check.summary, width));
    if (check.fix) lines.push(...wrapIndented('    Fix: ', check.fix, width));
  }
  if (lines.length <= maxLines) return lines;
  return [
    ...lines.slice(0, Math.max(1, maxLines - 1)),
    "    (more on this machine's page in the dashboard)".slice(0, width),
  ];
}
