import { describe, expect, it } from 'vitest';
import { planInstall } from '../../agent/install/plan.js';
import { runInstall, type InstallRunDeps } from '../../agent/install/run-install.js';
import type { ExecResult } from '../../agent/system/exec.js';

const inputs = { disk: '/dev/vda', sourceRoot: '/src', target: '/mnt/t', stateDir: '/var/lib/homenode' };

/** Records every program the install runs; `failOn` makes one of them fail as the real one would. */
function setup(failOn?: string) {
  const calls: string[] = [];
  const files = new Map<string, string>();
  let out = '';
  let t = 0;
  const ok = (stdout = ''): ExecResult => ({
    ok: true,
    missing: false,
    timedOut: false,
    exitCode: 0,
    stdout,
    stderr: '',
    problem: '',
  });
  const deps: InstallRunDeps = {
    exec: async (program, args) => {
      const line = [program, ...args].join(' ');
      calls.push(line);
      if (failOn && line.startsWith(failOn))
        return { ...ok(), ok: false, exitCode: 1, problem: `${program} failed (exit 1): Input/output error` };
      if (program === 'blkid') return ok(args.at(-1) === '/dev/vda3' ? 'root-uuid\n' : 'ABCD-1234\n');
      return ok();
    },
    readDir: async () => ['config-6.1.0-31-amd64', 'vmlinuz-6.1.0-31-amd64', 'initrd.img-6.1.0-31-amd64'],
    writeFile: async (path, text) => void files.set(path, text),
    mkdir: async () => undefined,
    write: (text) => void (out += text),
    now: () => (t += 500),
  };
  return { deps, calls, files, output: () => out };
}

describe('runInstall', () => {
  it('runs every step in order with progress and writes fstab and grub.cfg from the real UUIDs', async () => {
    const s = setup();
    const steps = planInstall(inputs);
    expect(await runInstall(steps, inputs, s.deps)).toEqual({ ok: true });
    expect(s.output()).toContain(`[1/${steps.length}] Erasing old partition tables ... done (0.5 s)`);
    expect(s.files.get('/mnt/t/etc/fstab')).toContain('UUID=root-uuid / ext4');
    expect(s.files.get('/mnt/t/boot/grub/grub.cfg')).toContain(
      'linux /boot/vmlinuz-6.1.0-31-amd64 root=UUID=root-uuid',
    );
    expect(s.calls.at(-1)).toBe('umount --recursive /mnt/t');
  });

  it('stops at the failing step, says which and why, and unmounts what it mounted', async () => {
    const s = setup('mkfs.ext4');
    const outcome = await runInstall(planInstall(inputs), inputs, s.deps);
    expect(outcome).toEqual({
      ok: false,
      step: 'Formatting the system partition (ext4)',
      problem: 'mkfs.ext4 failed (exit 1): Input/output error',
    });
    expect(s.output()).toMatch(/Formatting the system partition \(ext4\) \.\.\. failed/);
    expect(s.calls.some((c) => c.startsWith('cp '))).toBe(false);
    expect(s.calls.at(-1)).toBe('umount --recursive /mnt/t');
    expect(s.files.size).toBe(0);
  });
});
