/**
 * What one audit check produces before the runner adds its id and doc link (pure): a verdict with
 * plain-language text and figures, or a skip with its reason. Helpers build verdicts, combine
 * several problems into one, and clamp text to the protocol's limits.
 */
import { AUDIT_TEXT_LIMITS, MAX_METRICS_PER_CHECK, type AuditMetrics } from '../../protocol/audit.js';
import type { CheckStatus } from '../../protocol/hardware.js';

export interface Verdict {
  kind: 'verdict';
  status: CheckStatus;
  summary: string;
  detail: string;
  fix: string;
  metrics: AuditMetrics;
}

export interface Skip {
  kind: 'skip';
  reason: string;
}

export type CheckOutcome = Verdict | Skip;

export const verdict = (
  status: CheckStatus,
  summary: string,
  detail: string,
  fix: string,
  metrics: AuditMetrics = {},
): Verdict => ({ kind: 'verdict', status, summary, detail, fix: status === 'pass' ? '' : fix, metrics });

export const skip = (reason: string): Skip => ({ kind: 'skip', reason });

/** One thing found wrong: how bad, a short line, why it matters and what to do. */
export interface Problem {
  status: 'warn' | 'fail';
  summary: string;
  detail: string;
  fix: string;
}

/**
 * One verdict from the problems found: the worst status; the worst problem's summary (with a count
 * of the others); every detail and every distinct fix, worst first. No problems: `passSummary`.
 */
export function combine(
  problems: readonly Problem[],
  passSummary: string,
  passDetail: string,
  metrics: AuditMetrics,
): Verdict {
  if (problems.length === 0) return verdict('pass', passSummary, passDetail, '', metrics);
  const ordered = [...problems].sort((a, b) => rank(b.status) - rank(a.status));
  const worst = ordered[0]!;
  const more =
    ordered.length > 1 ? ` (and ${ordered.length - 1} more problem${ordered.length > 2 ? 's' : ''})` : '';
  const fixes = [...new Set(ordered.map((p) => p.fix).filter(Boolean))];
  const detail = [...ordered.map((p) => p.detail), passDetail].filter(Boolean).join(' ');
  return verdict(worst.status, `${worst.summary}${more}`, detail, fixes.join(' '), metrics);
}

const rank = (status: CheckStatus) => (status === 'fail' ? 2 : status === 'warn' ? 1 : 0);

/** Cut text to `max` characters, marking the cut. */
export function clampText(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ').trim();
  if (flat.length <= max) return flat;
  return max < 2 ? '' : `${flat.slice(0, max - 1)}…`;
}

/** Keep only finite figures with valid names, at most the protocol's count, rounded for people. */
export function cleanMetrics(metrics: AuditMetrics): AuditMetrics {
  const out: AuditMetrics = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (Object.keys(out).length >= MAX_METRICS_PER_CHECK) break;
    if (!/^[a-z][A-Za-z0-9]{1,63}$/.test(name) || !Number.isFinite(value)) continue;
    out[name] = Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
  }
  return out;
}

export function clampVerdict(v: Verdict): Verdict {
  return {
    ...v,
    summary: clampText(v.summary, AUDIT_TEXT_LIMITS.summary),
    detail: clampText(v.detail, AUDIT_TEXT_LIMITS.detail),
    fix: clampText(v.fix, AUDIT_TEXT_LIMITS.fix),
    metrics: cleanMetrics(v.metrics),
  };
}

/** Figures for people: `1234.5` → `1,235`; small ones keep one decimal. */
export function figure(value: number): string {
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return (Math.round(value * 10) / 10).toString();
}

export function gib(bytes: number): string {
  const g = bytes / 1024 ** 3;
  return g >= 10
    ? `${Math.round(g)} GiB`
    : g >= 1
      ? `${g.toFixed(1)} GiB`
      : `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** Debian packages that provide the programs the suite runs (for "install …" fixes). */
export const DEBIAN_PACKAGES: Readonly<Record<string, string>> = {
  sysbench: 'sysbench',
  fio: 'fio',
  'nvidia-smi': 'nvidia-smi',
  dmesg: 'util-linux',
  systemctl: 'systemd',
};

/** The finding for a benchmark program that is not installed: a warning naming the package. */
export function missingTool(program: string, what: string, metrics: AuditMetrics = {}): Verdict {
  const pkg = DEBIAN_PACKAGES[program] ?? program;
  return verdict(
    'warn',
    `${what} not measured: ${program} is not installed`,
    `The audit measures this with ${program}, which this machine does not have, so it could not be verified.`,
    `Install it (as root: apt-get install ${pkg}), or update Home Node: the installed system ships it.`,
    metrics,
  );
}
