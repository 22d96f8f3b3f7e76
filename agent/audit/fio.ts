/**
 * fio (Debian's `fio`, 3.x): the one invocation the disk check runs and a pure parser of its JSON.
 * Four jobs run one after another (`--stonewall`) on one test file with direct I/O: sequential
 * write (1 MiB blocks, the file once), sequential read and 4 KiB random read (for the run time),
 * 4 KiB random write (at most `randWriteBytes`). Writes are bounded by size, reads by time.
 */

export interface FioPlan {
  directory: string;
  fileName: string;
  fileBytes: number;
  randWriteBytes: number;
  secondsPerJob: number;
  /** O_DIRECT: measure the disk, not the page cache. Off only where the file system refuses it. */
  direct: boolean;
}

export const FIO_JOBS = ['seq-write', 'seq-read', 'rand-read', 'rand-write'] as const;
export type FioJob = (typeof FIO_JOBS)[number];

/** fio splits `--directory` and `--filename` at ':'; such paths are refused before they get here. */
export const FIO_SAFE_PATH = /^\/[A-Za-z0-9._\-/]{0,1023}$/;

export function fioArgs(plan: FioPlan): string[] {
  const s = `--runtime=${plan.secondsPerJob}`;
  return [
    '--output-format=json',
    `--directory=${plan.directory}`,
    `--filename=${plan.fileName}`,
    `--size=${plan.fileBytes}`,
    `--direct=${plan.direct ? 1 : 0}`,
    '--ioengine=libaio',
    ...(plan.direct ? [] : ['--end_fsync=1']),
    '--name=seq-write',
    '--rw=write',
    '--bs=1M',
    '--iodepth=8',
    `--io_size=${plan.fileBytes}`,
    s,
    '--stonewall',
    '--name=seq-read',
    '--rw=read',
    '--bs=1M',
    '--iodepth=8',
    '--time_based',
    s,
    '--stonewall',
    '--name=rand-read',
    '--rw=randread',
    '--bs=4k',
    '--iodepth=16',
    '--time_based',
    s,
    '--stonewall',
    '--name=rand-write',
    '--rw=randwrite',
    '--bs=4k',
    '--iodepth=16',
    `--io_size=${plan.randWriteBytes}`,
    s,
    '--stonewall',
  ];
}

export interface FioJobResult {
  name: string;
  /** fio's errno for the job (0 when it ran). */
  error: number;
  readIops: number;
  readBytesPerSec: number;
  writeIops: number;
  writeBytesPerSec: number;
  writtenBytes: number;
}

export interface FioResult {
  version: string;
  jobs: FioJobResult[];
}

export class FioParseError extends Error {
  override readonly name = 'FioParseError';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** fio may print warnings before the JSON document; the document starts at the first `{` line. */
export function parseFioJson(text: string): FioResult {
  const start = text.search(/^\{/m);
  if (start < 0) throw new FioParseError('fio did not print a JSON report');
  let doc: unknown;
  try {
    doc = JSON.parse(text.slice(start));
  } catch {
    throw new FioParseError('fio printed a JSON report that could not be read');
  }
  if (!isObject(doc) || !Array.isArray(doc.jobs)) throw new FioParseError('the fio report has no jobs');
  const jobs = doc.jobs.filter(isObject).map((job): FioJobResult => {
    const read = isObject(job.read) ? job.read : {};
    const write = isObject(job.write) ? job.write : {};
    return {
      name: typeof job.jobname === 'string' ? job.jobname : '',
      error: num(job.error),
      readIops: num(read.iops),
      readBytesPerSec: num(read.bw_bytes),
      writeIops: num(write.iops),
      writeBytesPerSec: num(write.bw_bytes),
      writtenBytes: num(write.io_bytes),
    };
  });
  const version = typeof doc['fio version'] === 'string' ? doc['fio version'] : 'fio';
  return { version, jobs };
}

export interface DiskFigures {
  seqWriteMiBps: number;
  seqReadMiBps: number;
  randReadIops: number;
  randWriteIops: number;
  /** Bytes the jobs wrote (the layout of the file not included; see `diskWriteBytes`). */
  writtenBytes: number;
}

/** The four figures, or the first job that is missing or failed. */
export function diskFigures(
  result: FioResult,
): { ok: true; figures: DiskFigures } | { ok: false; job: string; error: number } {
  const byName = new Map(result.jobs.map((j) => [j.name, j]));
  for (const name of FIO_JOBS) {
    const job = byName.get(name);
    if (!job || job.error !== 0) return { ok: false, job: name, error: job?.error ?? -1 };
  }
  const get = (name: FioJob) => byName.get(name)!;
  const MiB = 1024 * 1024;
  return {
    ok: true,
    figures: {
      seqWriteMiBps: get('seq-write').writeBytesPerSec / MiB,
      seqReadMiBps: get('seq-read').readBytesPerSec / MiB,
      randReadIops: get('rand-read').readIops,
      randWriteIops: get('rand-write').writeIops,
      writtenBytes: result.jobs.reduce((sum, j) => sum + j.writtenBytes, 0),
    },
  };
}
