/**
 * The agent's remote shells on a real pseudo-terminal (node-pty): a shell that starts is confirmed
 * with `shell-opened` before any output, one that cannot start is refused with `shell-close`, and
 * `shell-pause` really stops the output (the program blocks) until `shell-resume`.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RemoteShells } from '../../agent/shell/remote-shells.js';
import type { AgentMessage } from '../../protocol/control.js';

const shells: RemoteShells[] = [];
afterEach(() => {
  for (const s of shells.splice(0)) s.closeAll();
});

function setup(command: [string, ...string[]], enabled = true) {
  const sent: AgentMessage[] = [];
  const shell = new RemoteShells({
    enabled,
    command,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: '/tmp',
    send: (m) => sent.push(m),
    log: () => undefined,
  });
  shells.push(shell);
  const outputBytes = () =>
    sent.reduce((n, m) => n + (m.type === 'shell-data' ? Buffer.from(m.data, 'base64').length : 0), 0);
  return { shell, sent, outputBytes };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent remote shells', () => {
  it('confirms a started shell with shell-opened before its first output', async () => {
    const { shell, sent } = setup(['/bin/sh', '-c', 'echo started; sleep 5']);
    shell.open('sh_test1', 80, 24);
    await expect.poll(() => sent.map((m) => m.type).includes('shell-data')).toBe(true);
    expect(sent[0]).toEqual({ type: 'shell-opened', sessionId: 'sh_test1' });
  });

  it('refuses with shell-close, never confirming, when remote shells are off or too many are open', () => {
    const off = setup(['/bin/sh'], false);
    off.shell.open('sh_off', 80, 24);
    expect(off.sent).toEqual([
      { type: 'shell-close', sessionId: 'sh_off', reason: 'Remote shells are disabled on this machine' },
    ]);
    const busy = setup(['/bin/sh', '-c', 'sleep 5']);
    for (let i = 0; i < 5; i += 1) busy.shell.open(`sh_busy${i}`, 80, 24);
    expect(busy.sent.map((m) => m.type)).toEqual([
      'shell-opened',
      'shell-opened',
      'shell-opened',
      'shell-opened',
      'shell-close',
    ]);
    expect(busy.sent[4]).toMatchObject({
      sessionId: 'sh_busy4',
      reason: 'At most 4 remote shells at a time.',
    });
  });

  it('stops reading output on shell-pause and goes on after shell-resume', async () => {
    const { shell, outputBytes } = setup(['/usr/bin/yes', 'a line of output']);
    shell.open('sh_test3', 80, 24);
    await expect.poll(outputBytes).toBeGreaterThan(64 * 1024);
    shell.pause('sh_test3');
    await sleep(300);
    const paused = outputBytes();
    await sleep(700);
    // Nothing more arrives while paused (the pty fills and `yes` blocks).
    expect(outputBytes() - paused).toBeLessThan(64 * 1024);
    shell.resume('sh_test3');
    await expect.poll(outputBytes).toBeGreaterThan(paused + 256 * 1024);
  });
});
