/** Screens as a person reads them: 80 columns, no colour codes with NO_COLOR, plain-language results. */
import { describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from '../../agent/cli/args.js';
import { parseConfigFile } from '../../agent/cli/config.js';
import { renderChecksTable, renderPreflightReport } from '../../agent/ui/checks-table.js';
import { countdownLine, createCountdownWait, reasonLine } from '../../agent/ui/countdown.js';
import { validateKeyInput } from '../../agent/ui/key-prompt.js';
import { createStyle, wrapText, type Output } from '../../agent/ui/output.js';
import { enrolledScreen, refusedScreen } from '../../agent/ui/screens.js';
import type { Check } from '../../protocol/hardware.js';
import { formatInstallationKey, parseInstallationKey } from '../../protocol/key.js';

const ESC = '\u001b';
const ANSI = new RegExp(`${ESC}\\[`);
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const plain = createStyle(false);
const colour = createStyle(true);
const visible = (line: string) => line.replace(SGR, '');

const CHECKS: Check[] = [
  { id: 'arch', status: 'pass', summary: '64-bit x86 processor (x86_64)', detail: '', fix: '' },
  {
    id: 'private-network',
    status: 'fail',
    summary: 'Your home network clashes with the cluster network',
    detail:
      "Your home network 10.42.0.0/16 (on enp5s0) overlaps the cluster's network 10.42.0.0/16, so traffic could not be routed.",
    fix: 'Change your router\'s LAN range to a different private range such as 192.168.1.0/24 (in the router\'s "LAN" or "DHCP" settings), then restart this machine.',
  },
  {
    id: 'virtualization',
    status: 'warn',
    summary: 'Running inside a virtual machine (KVM)',
    detail: 'VMs are slower.',
    fix: 'Boot it directly.',
  },
];

describe('checks table', () => {
  it('fits 80 columns, shows every status and puts the fix under a failure', () => {
    const lines = renderPreflightReport(CHECKS, [], 79, colour);
    expect(Math.max(...lines.map((l) => visible(l).length))).toBeLessThanOrEqual(79);
    const text = lines.map(visible).join('\n');
    expect(text).toMatch(/\[ ok \] arch/);
    expect(text).toMatch(/\[FAIL\] private-network Your home network clashes/);
    expect(text).toMatch(/\[warn\] virtualization/);
    const failAt = lines.findIndex((l) => visible(l).includes('[FAIL]'));
    const fixAt = lines.findIndex((l) => visible(l).includes('Fix: Change your router'));
    expect(fixAt).toBeGreaterThan(failAt);
    expect(text).toContain('1 passed, 1 warning, 1 failed.');
  });

  it('writes no escape codes when colour is off (NO_COLOR)', () => {
    expect(renderChecksTable(CHECKS, 79, plain).some((l) => ANSI.test(l))).toBe(false);
    expect(renderChecksTable(CHECKS, 79, colour).some((l) => ANSI.test(l))).toBe(true);
  });

  it('wraps words and cuts only words longer than a line', () => {
    expect(wrapText('aaa bbb ccc', 7)).toEqual(['aaa bbb', 'ccc']);
    expect(wrapText('x'.repeat(10), 4)).toEqual(['xxxx', 'xxxx', 'xx']);
  });
});

describe('result screens', () => {
  it('shows the node id and what happens next when pending', () => {
    const node = {
      nodeId: 'node_01J9',
      status: 'pending' as const,
      serverUrl: 'https://s',
      fingerprint: 'f',
      enrolledAt: 't',
    };
    const text = enrolledScreen(node, 79, plain).join('\n');
    expect(text).toContain('Enrolled: waiting for approval');
    expect(text).toContain('Node id:  node_01J9');
    expect(text).toMatch(/operations team will review/);
  });

  it('tells the person to generate a new key when theirs expired', () => {
    const text = refusedScreen({ code: 'KEY_EXPIRED', message: 'expired' }, 79, plain).join('\n');
    expect(text).toContain('This installation key has expired');
    expect(text).toMatch(/Generate a new\s+installation key on the Home Node website/);
  });

  it('lists the failed checks of a hardware rejection', () => {
    const details = {
      checks: [{ id: 'gpu', status: 'fail', summary: 'No NVIDIA GPU found', fix: 'Seat the card.' }],
    };
    const text = refusedScreen({ code: 'HARDWARE_REJECTED', message: 'rejected', details }, 79, plain).join(
      '\n',
    );
    expect(text).toContain('- No NVIDIA GPU found. Fix: Seat the card.');
  });
});

describe('countdown', () => {
  function recorder(isTTY: boolean): Output & { text: string } {
    const out = { text: '', isTTY, width: 79, write: (t: string) => void (out.text += t) };
    return out;
  }
  const notice = { attempt: 1, maxAttempts: 5, delayMs: 2500, reason: 'the server refused the connection' };

  it('counts down second by second on a terminal and sleeps the whole delay', async () => {
    const out = recorder(true);
    const slept: number[] = [];
    await createCountdownWait(out, plain, async (ms) => void slept.push(ms))(2500, notice);
    expect(slept).toEqual([500, 1000, 1000]);
    expect(out.text).toContain('Retrying in 3 s (attempt 2 of 5)');
    expect(out.text).toContain('Retrying in 1 s');
  });

  it('prints one line per wait when not on a terminal', async () => {
    const out = recorder(false);
    await createCountdownWait(out, plain, async () => undefined)(2500, notice);
    expect(out.text).toBe(`${reasonLine(notice)}\n${countdownLine(notice, 3)}\n`);
  });
});

describe('key prompt validation', () => {
  const good = formatInstallationKey('7K3M', 'Q9XW2RT5ZB8NAVP');
  it('accepts a key in any case and with spaces', () => {
    expect(validateKeyInput(good.toLowerCase().replaceAll('-', ' '))).toBe(true);
  });
  it('catches a single wrong character before anything is sent', () => {
    const typo = good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11);
    expect(validateKeyInput(typo)).toMatch(/typo.*Re-check\s+the characters/s);
  });
  it('wraps the message on word boundaries, indented under the "> " inquirer puts before it', () => {
    const wrong = `${good.slice(0, 4)}U${good.slice(5)}`;
    const parsed = parseInstallationKey(wrong);
    for (const width of [79, 60, 40]) {
      const message = validateKeyInput(wrong, width);
      if (message === true) throw new Error('accepted');
      const lines = `> ${message}`.split('\n');
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(line.length).toBeLessThanOrEqual(width);
      for (const line of lines.slice(1)) expect(line).toMatch(/^ {2}\S/);
      expect(lines.map((l) => l.trim()).join(' ')).toBe(`> ${parsed.ok ? '' : parsed.message}`);
    }
  });
});

describe('command line and config', () => {
  it('parses commands and their options', () => {
    expect(parseCliArgs(['preflight', '--json', '--facts', 'f.json'])).toMatchObject({
      command: 'preflight',
      json: true,
      facts: 'f.json',
    });
    expect(parseCliArgs(['enroll', '--key', 'HN-1', '--server', 'http://x'])).toMatchObject({
      key: 'HN-1',
      server: 'http://x',
    });
    expect(parseCliArgs([]).command).toBe('help');
    expect(parseCliArgs(['status', '--help']).command).toBe('help');
  });

  it('refuses unknown commands, unknown options and options of other commands', () => {
    expect(() => parseCliArgs(['fly'])).toThrow(UsageError);
    expect(() => parseCliArgs(['status', '--bogus'])).toThrow(UsageError);
    expect(() => parseCliArgs(['status', '--key', 'x'])).toThrow(/--key does not apply to "status"/);
  });

  it('names the config file and field that is wrong', () => {
    expect(() => parseConfigFile('/etc/homenode/config.json', '{')).toThrow(/config.json is not valid JSON/);
    expect(() => parseConfigFile('/c.json', '{"serverPin":"nope"}')).toThrow(
      /\/c.json is not valid at \/serverPin/,
    );
    expect(parseConfigFile('/c.json', '{"serverUrl":"https://s","retry":{"maxAttempts":2}}')).toEqual({
      serverUrl: 'https://s',
      retry: { maxAttempts: 2 },
    });
  });
});
