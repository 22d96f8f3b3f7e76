/**
 * The recorded output inside a stand-in script (`cat <<'OUT' … OUT`), so that unit tests parse
 * exactly what the stand-in programs print in the integration tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const AGENT_FIXTURES = join(import.meta.dirname, '../fixtures/agent');

/** The `index`-th heredoc of `test/fixtures/agent/<dir>/<program>`. */
export function recordedOutput(dir: string, program: string, index = 0): string {
  const script = readFileSync(join(AGENT_FIXTURES, dir, program), 'utf8');
  const blocks = [...script.matchAll(/<<'OUT'\n([\s\S]*?)\nOUT\n/g)].map((m) => `${m[1] ?? ''}\n`);
  const block = blocks[index];
  if (block === undefined) throw new Error(`${dir}/${program} has no recorded output #${index}`);
  return block;
}

export function fixtureText(...parts: string[]): string {
  return readFileSync(join(AGENT_FIXTURES, ...parts), 'utf8');
}
