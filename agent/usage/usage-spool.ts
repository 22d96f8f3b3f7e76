/**
 * The usage spool: signed reports wait on disk until the server acknowledges their seq. The next
 * seq is persisted before a report is written, so a seq is never reused even after a power cut;
 * each report is its own file, written atomically and removed on `ack`.
 */
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import { readTextIfExists, removeFileDurably, writeFileAtomic } from '../state/atomic-file.js';

const SpooledSchema = Type.Object({ seq: Type.Integer({ minimum: 0 }), report: Type.String() });
const SeqSchema = Type.Object({ next: Type.Integer({ minimum: 1 }) });
const checkSpooled = Compile(SpooledSchema);
const checkSeq = Compile(SeqSchema);
const FILE = /^usage-(\d{16})\.json$/;

export interface SpooledReport {
  seq: number;
  report: string;
}

export function createUsageSpool(dir: string) {
  const seqPath = join(dir, 'usage-seq.json');
  const fileFor = (seq: number) => join(dir, `usage-${String(seq).padStart(16, '0')}.json`);
  const ensure = () => mkdir(dir, { recursive: true, mode: 0o700 });

  async function readNext(): Promise<number> {
    const text = await readTextIfExists(seqPath);
    if (text === undefined) return 1;
    const value: unknown = JSON.parse(text);
    if (!checkSeq.Check(value)) throw new Error(`${seqPath} does not hold a sequence number`);
    return value.next;
  }

  return {
    dir,
    /** Take the next seq (persisted before it is used). */
    async takeSeq(): Promise<number> {
      await ensure();
      const seq = await readNext();
      await writeFileAtomic(seqPath, `${JSON.stringify({ next: seq + 1 })}\n`);
      return seq;
    },
    async put(entry: SpooledReport): Promise<void> {
      await ensure();
      await writeFileAtomic(fileFor(entry.seq), `${JSON.stringify(entry)}\n`);
    },
    /** Spooled reports in seq order; unreadable files are skipped (and named in `damaged`). */
    async pending(): Promise<{ reports: SpooledReport[]; damaged: string[] }> {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return { reports: [], damaged: [] };
      }
      const reports: SpooledReport[] = [];
      const damaged: string[] = [];
      for (const name of names.filter((n) => FILE.test(n)).sort()) {
        try {
          const value: unknown = JSON.parse((await readTextIfExists(join(dir, name))) ?? '');
          if (checkSpooled.Check(value)) reports.push(value);
          else damaged.push(name);
        } catch {
          damaged.push(name);
        }
      }
      return { reports, damaged };
    },
    ack: (seq: number) => removeFileDurably(fileFor(seq)),
  };
}
export type UsageSpool = ReturnType<typeof createUsageSpool>;
