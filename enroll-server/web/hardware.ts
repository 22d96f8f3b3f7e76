/** Hardware and check summaries shared by the pending queue and the node page. */
import { h, table } from './dom.js';
import { bytes } from './format.js';
import type { NodeDetailView } from '../nodes/schemas.js';

export function hardwareSummary(node: NodeDetailView): string {
  const hw = node.hardware;
  const gpus = node.gpus.map((g) => `${g.count} × ${g.model} ${g.memory}`).join(', ') || 'no GPU';
  const disk = hw.disks.filter((d) => !d.removable).reduce((sum, d) => sum + d.sizeBytes, 0);
  return `${gpus} · ${hw.cpu.model} (${hw.cpu.cores} cores) · ${bytes(hw.memory.totalBytes)} RAM · ${bytes(disk)} disk`;
}

const ICON: Record<string, string> = { pass: '✓ pass', warn: '⚠ warning', fail: '✗ failed' };

export function checksTable(node: NodeDetailView, onlyProblems = false): HTMLElement {
  const checks = onlyProblems ? node.preflight.filter((c) => c.status !== 'pass') : node.preflight;
  return table(
    'Hardware checks',
    ['Check', 'Result', 'What it found', 'Fix'],
    checks.map((c) => [
      c.id,
      h('span', { class: `check check-${c.status}` }, ICON[c.status] ?? c.status),
      c.summary + (c.detail ? ` ${c.detail}` : ''),
      c.fix || '—',
    ]),
    onlyProblems ? 'All checks passed.' : 'No checks were reported.',
  );
}
