/** `audit.lock` on a real file system: one audit at a time, and stale locks never block for good. */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_FILES, acquireAuditLock } from '../../agent/audit/audit-state.js';
import { tempDir } from './agent-support.js';

const NOW = '2026-11-02T10:00:00.000Z';

function lockFile(dir: string, pid: number, ageMs = 0): string {
  const path = join(dir, AUDIT_FILES.lock);
  writeFileSync(path, JSON.stringify({ pid, what: 'audit aud_other', since: NOW }));
  const at = (Date.parse(NOW) - ageMs) / 1000;
  utimesSync(path, at, at);
  return path;
}

describe('the audit lock', () => {
  it('is taken, written with this process, and removed on release', async () => {
    const dir = tempDir();
    const result = await acquireAuditLock(dir, 'a local audit', NOW);
    if (!result.ok) throw new Error('not taken');
    expect(JSON.parse(readFileSync(join(dir, AUDIT_FILES.lock), 'utf8'))).toEqual({
      pid: process.pid,
      what: 'a local audit',
      since: NOW,
    });
    await result.lock.release();
    expect(existsSync(join(dir, AUDIT_FILES.lock))).toBe(false);
  });

  it('is refused while a live process holds it, naming what runs', async () => {
    const dir = tempDir();
    lockFile(dir, process.ppid, 60_000);
    expect(await acquireAuditLock(dir, 'x', NOW)).toEqual({
      ok: false,
      holder: { pid: process.ppid, what: 'audit aud_other' },
    });
  });

  it('is taken over from a process that has exited, from a previous life of this pid, and when hours old', async () => {
    const gone = spawnSync('true').pid ?? 0;
    for (const [pid, age] of [
      [gone, 0],
      [process.pid, 0],
      [process.ppid, 3 * 3_600_000],
    ] as const) {
      const dir = tempDir();
      lockFile(dir, pid, age);
      const result = await acquireAuditLock(dir, 'mine', NOW);
      expect(result.ok, `pid ${pid}, ${age} ms old`).toBe(true);
    }
  });
});
