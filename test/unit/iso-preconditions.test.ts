/**
 * `npm run test:iso` checks its host before anything else: QEMU on PATH, the OVMF firmware, root and
 * the ISO build tools; what is missing is named with the install command (no QEMU needed here).
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeProblems, findOnPath, isoTestProblems } from '../iso/preconditions.js';

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'hn-iso-pre-'));
  const binDir = mkdtempSync(join(dir, 'bin-'));
  const emptyDir = mkdtempSync(join(dir, 'empty-'));
  const qemu = join(binDir, 'qemu-system-x86_64');
  writeFileSync(qemu, '#!/bin/sh\nexit 0\n');
  chmodSync(qemu, 0o755);
  const code = join(dir, 'OVMF_CODE_4M.fd');
  const vars = join(dir, 'OVMF_VARS_4M.fd');
  writeFileSync(code, '');
  writeFileSync(vars, '');
  return { dir, binDir, emptyDir, qemu, code, vars };
}

describe('test:iso preconditions', () => {
  it('passes a host that has everything', () => {
    const s = setup();
    const found = isoTestProblems({
      path: s.binDir,
      uid: 0,
      ovmfCode: s.code,
      ovmfVars: s.vars,
      missingBuildTools: [],
    });
    expect(found).toEqual({ problems: [], install: [] });
    expect(findOnPath('qemu-system-x86_64', `/nonexistent:${s.binDir}`)).toBe(s.qemu);
  });

  it('names missing QEMU and OVMF with one apt-get line', () => {
    const s = setup();
    const found = isoTestProblems({
      path: s.emptyDir,
      uid: 0,
      ovmfCode: join(s.dir, 'absent-code.fd'),
      ovmfVars: join(s.dir, 'absent-vars.fd'),
      missingBuildTools: [],
    });
    expect(found.install).toEqual(['qemu-system-x86', 'ovmf']);
    const text = describeProblems(found);
    expect(text).toMatch(/^npm run test:iso cannot start on this machine:/);
    expect(text).toContain('qemu-system-x86_64 is not installed');
    expect(text).toContain('absent-code.fd is missing');
    expect(text).toContain('apt-get install -y --no-install-recommends qemu-system-x86 ovmf');
  });

  it('does not take a file that is not executable for QEMU, and asks for root and the build tools', () => {
    const s = setup();
    chmodSync(s.qemu, 0o644);
    const found = isoTestProblems({
      path: s.binDir,
      uid: 1000,
      ovmfCode: s.code,
      ovmfVars: s.vars,
      missingBuildTools: ['mmdebstrap', 'xorriso'],
    });
    expect(found.install).toEqual(['qemu-system-x86', 'mmdebstrap', 'xorriso']);
    expect(describeProblems(found)).toContain('needs root: run it as root (sudo npm run test:iso)');
  });
});
