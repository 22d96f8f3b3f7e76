/**
 * `collect-diagnostics`: the agent's log tail, the unit's journal, the kernel ring buffer and
 * `nvidia-smi -q`, as one text bounded to 60 KiB. A source that is missing or fails becomes a
 * finding at the top, never a failed command.
 */
import { readTextIfExists } from '../state/atomic-file.js';
import type { Exec } from '../system/exec.js';
import { boundOutput, tailLines } from './bounded-output.js';

export const DIAGNOSTIC_SECTION_CHARS = 14 * 1024;

interface Section {
  title: string;
  text: string;
}

async function programSection(
  exec: Exec,
  title: string,
  program: string,
  args: string[],
  tail: number,
  findings: string[],
): Promise<Section> {
  const result = await exec(program, args, { timeoutMs: 20_000 });
  if (!result.ok) {
    findings.push(`${title}: ${result.problem}`);
    return { title, text: result.stdout ? tailLines(result.stdout, tail) : '(not available)' };
  }
  return { title, text: tailLines(result.stdout, tail) };
}

export async function collectDiagnostics(exec: Exec, logFile: string): Promise<string> {
  const findings: string[] = [];
  const log = await readTextIfExists(logFile).catch(() => undefined);
  if (log === undefined) findings.push(`agent log: ${logFile} could not be read`);
  const sections: Section[] = [
    { title: `agent log (${logFile}, last 200 lines)`, text: log ? tailLines(log, 200) : '(not available)' },
    await programSection(
      exec,
      'journalctl -u homenode-agent -n 300 --no-pager',
      'journalctl',
      ['-u', 'homenode-agent', '-n', '300', '--no-pager'],
      300,
      findings,
    ),
    await programSection(exec, 'dmesg (last 200 lines)', 'dmesg', ['--ctime'], 200, findings),
    await programSection(exec, 'nvidia-smi -q', 'nvidia-smi', ['-q'], 400, findings),
  ];
  const head = [
    'Home Node diagnostics',
    findings.length ? `Findings:\n${findings.map((f) => `- ${f}`).join('\n')}` : 'Findings: none',
  ].join('\n');
  const body = sections.map(
    (s) =>
      `\n===== ${s.title} =====\n${boundOutput(s.text, { maxChars: DIAGNOSTIC_SECTION_CHARS, keep: 'tail' })}`,
  );
  return boundOutput([head, ...body].join('\n'));
}
