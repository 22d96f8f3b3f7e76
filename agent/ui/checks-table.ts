/** The preflight checks as a table that fits an 80-column console, fixes under each problem. */
import type { Check, CheckStatus } from '../../protocol/hardware.js';
import type { ProbeNote } from '../probe/facts.js';
import { wrapIndented, wrapText, type Style } from './output.js';

const LABELS: Record<CheckStatus, string> = { pass: ' ok ', warn: 'warn', fail: 'FAIL' };
const ID_WIDTH = 16;

function badge(status: CheckStatus, style: Style): string {
  const text = `[${LABELS[status]}]`;
  if (status === 'pass') return style.green(text);
  if (status === 'warn') return style.yellow(text);
  return style.red(style.bold(text));
}

export function renderChecksTable(checks: readonly Check[], width: number, style: Style): string[] {
  const lines: string[] = [];
  const indent = ' '.repeat(7 + ID_WIDTH);
  for (const check of checks) {
    const lead = `[${LABELS[check.status]}] ${check.id.padEnd(ID_WIDTH - 1)} `;
    const rows = wrapIndented(lead, check.summary, width);
    lines.push(...rows.map((row, i) => (i === 0 ? badge(check.status, style) + row.slice(6) : row)));
    if (check.status === 'pass') continue;
    if (check.detail) lines.push(...wrapIndented(indent, check.detail, width).map((l) => style.dim(l)));
    if (check.fix) lines.push(...wrapIndented(`${indent}Fix: `, check.fix, width).map((l) => style.cyan(l)));
  }
  return lines;
}

export function summarizeChecks(checks: readonly Check[]): { pass: number; warn: number; fail: number } {
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  return { pass: count('pass'), warn: count('warn'), fail: count('fail') };
}

export function renderPreflightReport(
  checks: readonly Check[],
  notes: readonly ProbeNote[],
  width: number,
  style: Style,
): string[] {
  const { pass, warn, fail } = summarizeChecks(checks);
  const lines = [style.bold('Hardware checks'), '', ...renderChecksTable(checks, width, style), ''];
  // Notes explain a failing GPU check in its detail; on their own they are only shown as notes.
  const gpuExplained = checks.some((c) => c.id === 'gpu' && c.status !== 'pass');
  const shown = gpuExplained ? [] : notes;
  for (const note of shown)
    lines.push(...wrapIndented('Note: ', note.message, width).map((l) => style.dim(l)));
  if (shown.length) lines.push('');
  const tally = `${pass} passed, ${warn} warning${warn === 1 ? '' : 's'}, ${fail} failed.`;
  const verdict = fail
    ? `${tally} Fix the failed checks above, then restart this machine.`
    : `${tally} This machine can join Home Node.`;
  const colour = fail ? style.red : style.green;
  lines.push(...wrapText(verdict, width).map((l) => colour(l)));
  return lines;
}
