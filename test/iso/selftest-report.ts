/**
 * The test image's self-test report (iso-builder/test-overlay/opt/homenode/bin/homenode-selftest),
 * written by the guest to its second serial port: sections "=== NAME", the output, "exit=N".
 */
import { existsSync, readFileSync } from 'node:fs';

export interface Section {
  output: string;
  exit: number;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function parseSelftest(text: string): Map<string, Section> | undefined {
  const clean = text.replace(/\r/g, '').replace(ANSI, '');
  const begin = clean.lastIndexOf('HOMENODE-SELFTEST-BEGIN');
  const end = clean.indexOf('HOMENODE-SELFTEST-END', begin);
  if (begin < 0 || end < 0) return undefined;
  const sections = new Map<string, Section>();
  for (const block of clean.slice(begin, end).split('\n=== ').slice(1)) {
    const [name = '', ...rest] = block.split('\n');
    const body = rest.join('\n').trimEnd();
    const exit = /\nexit=(\d+)$|^exit=(\d+)$/.exec(body);
    sections.set(name.trim(), {
      output: body.replace(/\n?exit=\d+$/, '').trim(),
      exit: exit ? Number(exit[1] ?? exit[2]) : -1,
    });
  }
  return sections;
}

/** Waits (polling the file QEMU writes) until the report is complete. */
export async function waitForSelftest(file: string, timeoutMs: number): Promise<Map<string, Section>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const report = existsSync(file) ? parseSelftest(readFileSync(file, 'utf8')) : undefined;
    if (report) return report;
    if (Date.now() > deadline) {
      const tail = existsSync(file) ? readFileSync(file, 'utf8').slice(-1500) : '(nothing written)';
      throw new Error(`The self-test report did not complete within ${timeoutMs / 1000} s: ${file}\n${tail}`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}
