/** Audit results on the console: the `agent audit` table and the status screen's last audit. */
import { describe, expect, it } from 'vitest';
import { lastAuditLines, renderAuditReport, type AuditView } from '../../agent/ui/audit-view.js';
import { createStyle } from '../../agent/ui/output.js';
import {
  SCREEN_ROWS,
  SCREEN_WIDTH,
  renderStatusScreen,
  type DaemonView,
} from '../../agent/ui/status-screen.js';
import type { AuditCheck } from '../../protocol/audit.js';

const plain = createStyle(false);

const gpuFail: AuditCheck = {
  id: 'gpu',
  status: 'fail',
  summary: 'The NVIDIA driver sees no GPU',
  detail:
    'The driver is loaded but answered "No devices were found": the card has lost power or fallen off the PCIe bus.',
  fix: 'Switch the machine off at the wall, check that the graphics card is pushed fully into its slot and that every PCIe power cable is plugged in (no adapters or risers), then switch it on again.',
  docUrl: 'https://homenode.example.com/docs/troubleshooting#gpu',
  metrics: { gpuCount: 0 },
};
const diskPass: AuditCheck = {
  id: 'disk',
  status: 'pass',
  summary: '80 GiB free; 48,117 / 13,968 IOPS random read/write, 1,056 / 1,320 MiB/s sequential',
  detail: '',
  fix: '',
  docUrl: 'https://homenode.example.com/docs/troubleshooting#disk',
  metrics: { diskFreeBytes: 85899345920 },
};

const failed: AuditView = {
  checks: [gpuFail, diskPass],
  skipped: [{ id: 'cluster', reason: 'This machine has not joined the cluster yet.' }],
  finishedAt: '2026-11-02T10:04:12.000Z',
};

describe('agent audit table', () => {
  it('shows each check, the fix and the guide link of a failure, the skipped checks and a tally, in 79 columns', () => {
    const lines = renderAuditReport(failed, 79, plain);
    const text = lines.join('\n');
    expect(text).toMatch(/\[FAIL\] gpu\s+The NVIDIA driver sees no GPU/);
    expect(text).toContain('Fix: Switch the machine off at the wall');
    expect(text).toContain('More: https://homenode.example.com/docs/troubleshooting#gpu');
    expect(text).toMatch(/\[ ok \] disk\s+80 GiB free/);
    expect(text).not.toContain('troubleshooting#disk');
    expect(text).toMatch(/\[skip\] cluster\s+This machine has not joined the cluster yet\./);
    expect(lines.at(-2)).toBe('1 passed, 0 warnings, 1 failed, 1 skipped. Fix the failed checks above; the');
    expect(lines.every((l) => l.length <= 79)).toBe(true);
  });
});

describe('last audit on the status screen', () => {
  it('is one line when the audit passed or never ran', () => {
    expect(lastAuditLines({ ...failed, checks: [diskPass] }, 79, 7)).toEqual([
      'Audit:      passed (2026-11-02 10:04 UTC)',
    ]);
    expect(lastAuditLines(undefined, 79, 7)).toEqual(['Audit:      not run yet']);
  });

  it('lists the failed checks with their fix, bounded', () => {
    const lines = lastAuditLines(failed, 79, 7);
    expect(lines[0]).toBe('Audit:      FAILED (2026-11-02 10:04 UTC): gpu');
    expect(lines[1]).toBe('  gpu: The NVIDIA driver sees no GPU');
    expect(lines[2]).toMatch(/^ {4}Fix: Switch the machine off at the wall/);
    expect(lines.length).toBeLessThanOrEqual(7);
    const many: AuditView = {
      ...failed,
      checks: [gpuFail, { ...gpuFail, id: 'cluster' }, { ...gpuFail, id: 'disk' }],
    };
    const bounded = lastAuditLines(many, 79, 7);
    expect(bounded).toHaveLength(7);
    expect(bounded.at(-1)).toBe("    (more on this machine's page in the dashboard)");
  });

  it('fits the 80×24 screen with the failure and its fix', () => {
    const view: DaemonView = {
      nodeId: 'node_0123456789abcdefghij',
      serverUrl: 'https://homenode.example.com',
      insecureHttp: false,
      status: 'active',
      connection: 'connected',
      spooled: 0,
      shells: 0,
      shellEnabled: true,
      logFile: '/var/lib/homenode/agent.log',
      events: ['10:04:12 Audit aud_1 failed: gpu.'],
      nodeName: 'nd-testnode',
      audit: failed,
    };
    const screen = renderStatusScreen(view, plain, Date.parse('2026-11-02T10:05:00Z'));
    expect(screen).toHaveLength(SCREEN_ROWS);
    expect(screen.every((l) => l.length <= SCREEN_WIDTH)).toBe(true);
    expect(screen).toContain('Audit:      FAILED (2026-11-02 10:04 UTC): gpu');
    expect(screen.some((l) => l.includes('Fix: Switch the machine off at the wall'))).toBe(true);
  });
});
