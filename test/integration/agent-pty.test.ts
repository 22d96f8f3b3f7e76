/**
 * The first-boot screens through a real pseudo-terminal (80×24): the person types a key with a
 * typo, is told to re-check it, corrects it and reads the pending screen with the node id.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { normalizeKeyInput, parseInstallationKey } from '../../protocol/key.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { AGENT_ARGS, FACTS, ROOT, fastRetryConfig, standInPath, tempDir } from './agent-support.js';

let cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanup.reverse()) await fn();
  cleanup = [];
});

function withTypo(key: string): string {
  const body = normalizeKeyInput(key);
  const wrong = body[9] === '7' ? '8' : '7';
  return `HN-${(body.slice(0, 9) + wrong + body.slice(10)).match(/.{4}/g)?.join('-')}`;
}

const ESC = '\u001b';
const CSI = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g');
const COLOUR = new RegExp(`${ESC}\\[3[12]m`);
const plain = (text: string) => text.replace(CSI, '');

function openConsole(args: string[], env: Record<string, string>) {
  const term = pty.spawn(process.execPath, [...AGENT_ARGS, ...args], {
    name: 'xterm',
    cols: 80,
    rows: 24,
    cwd: ROOT,
    env: { HOME: process.env.HOME ?? '/tmp', PATH: standInPath(), TERM: 'xterm', ...env },
  });
  let screen = '';
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)));
  term.onData((data) => void (screen += data));
  cleanup.push(() => {
    try {
      term.kill();
    } catch {
      // already gone
    }
  });
  const waitFor = async (pattern: RegExp, timeoutMs = 20_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(plain(screen))) {
      if (Date.now() > deadline)
        throw new Error(`never saw ${String(pattern)} on the console:\n${plain(screen)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  /** Type like a person: a character at a time. */
  const type = async (text: string) => {
    for (const ch of text) {
      term.write(ch);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };
  return { term, waitFor, type, exited, screen: () => screen };
}

async function setup(): Promise<{ server: TestServer; key: string; dir: string; config: string }> {
  const server = await startTestServer();
  cleanup.push(() => server.close());
  const owner = await server.createOwner();
  const { key } = await server.createKey(owner.id);
  const dir = tempDir();
  return { server, key, dir, config: fastRetryConfig(dir) };
}

describe('first boot on a console', () => {
  for (const colour of [true, false]) {
    it(`catches a typo, takes the corrected key and shows the pending screen (${colour ? 'colour' : 'NO_COLOR'})`, async () => {
      const { server, key, dir, config } = await setup();
      const facts = join(FACTS, 'rtx4090.json');
      const con = openConsole(
        ['run', '--server', server.url, '--state-dir', dir, '--config', config, '--facts', facts],
        colour ? {} : { NO_COLOR: '1' },
      );
      await con.waitFor(/Welcome to Home Node/);
      await con.waitFor(/Installation key/);
      await con.type(`${withTypo(key)}\r`);
      await con.waitFor(/contains a typo.*Re-check\s+the characters/s);
      await con.type('\x7f'.repeat(40));
      await con.type(`${key}\r`);
      await con.waitFor(/Enrolled: waiting for approval/);
      // `run` goes on as the daemon: its status screen, then a clean stop on SIGTERM.
      await con.waitFor(/Waiting for approval[\s\S]*Connection: connected/);
      con.term.kill('SIGTERM');
      expect(await con.exited).toBe(0);
      const node = JSON.parse(readFileSync(join(dir, 'node.json'), 'utf8')) as { nodeId: string };
      const text = plain(con.screen());
      expect(text).toContain(`Node id:  ${node.nodeId}`);
      expect(text).toMatch(/\[ ok \] gpu\s+1 NVIDIA GPU: rtx4090/);
      // Escape codes for colour only when colour is on.
      expect(COLOUR.test(con.screen())).toBe(colour);
      // The cursor is shown again at the end: the terminal is left usable.
      expect(con.screen().lastIndexOf('\x1b[?25h')).toBeGreaterThan(con.screen().lastIndexOf('\x1b[?25l'));
    });
  }

  it("wraps the key prompt's errors on word boundaries at 80 columns", async () => {
    const { server, key, dir, config } = await setup();
    const con = openConsole(
      [
        'enroll',
        '--server',
        server.url,
        '--state-dir',
        dir,
        '--config',
        config,
        '--facts',
        join(FACTS, 'rtx4090.json'),
      ],
      { NO_COLOR: '1' },
    );
    await con.waitFor(/Installation key/);
    // A typo, a missing group, a symbol that is never in a key.
    for (const typed of [withTypo(key), key.slice(0, -5), `${key.slice(0, 4)}U${key.slice(5)}`]) {
      const parsed = parseInstallationKey(typed);
      if (parsed.ok) throw new Error(`${typed} was taken as a key`);
      const before = con.screen().length;
      await con.type(`${typed}\r`);
      // The message is complete once the screen ends with its final full stop.
      const ended = () => /\n> [\s\S]*\.\s*$/.test(plain(con.screen().slice(before)));
      await expect.poll(ended, { timeout: 10_000, interval: 50 }).toBe(true);
      // What the terminal shows: inquirer cuts any line longer than the terminal at 80 columns,
      // inside a word if need be, so the agent must wrap its message first.
      const text = plain(con.screen().slice(before));
      const shown = text.slice(text.lastIndexOf('> '));
      const lines = shown.trimEnd().split(/\r?\n/);
      for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(79);
      expect(lines.map((l) => l.trim()).join(' ')).toBe(`> ${parsed.message}`);
      await con.type('\x7f'.repeat(40));
    }
    con.term.write('\x03');
    expect(await con.exited).toBe(130);
  });

  it('leaves the terminal usable when the person presses Ctrl-C at the key prompt', async () => {
    const { server, dir, config } = await setup();
    const con = openConsole(
      [
        'run',
        '--server',
        server.url,
        '--state-dir',
        dir,
        '--config',
        config,
        '--facts',
        join(FACTS, 'rtx4090.json'),
      ],
      { NO_COLOR: '1' },
    );
    await con.waitFor(/Installation key/);
    con.term.write('\x03');
    expect(await con.exited).toBe(130);
    expect(plain(con.screen())).toMatch(/Stopped\./);
  });
});
