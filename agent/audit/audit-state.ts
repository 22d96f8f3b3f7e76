/**
 * The audit's files in the state dir: `audit-last.json` (the last finished audit, for the console,
 * `status`, the next audit's Xid window and its GPU expectations; written atomically, 0600) and
 * `audit.lock` (one audit at a time on this machine, daemon and command line alike; a lock whose
 * process is gone is taken over).
 */
import { mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Type, type Static } from 'typebox';
import { Compile } from 'typebox/compile';
import { AuditCheckSchema, AuditSkipSchema } from '../../protocol/audit.js';
import { readTextIfExists, writeFileAtomic } from '../state/atomic-file.js';

export const AUDIT_FILES = { last: 'audit-last.json', lock: 'audit.lock' } as const;

export const AuditRecordSchema = Type.Object({
  /** The server's audit id, or absent for `agent audit` on the command line. */
  auditId: Type.Optional(Type.String({ maxLength: 64 })),
  trigger: Type.Union([Type.Literal('server'), Type.Literal('local')]),
  startedAt: Type.String(),
  finishedAt: Type.String(),
  passed: Type.Boolean(),
  checks: Type.Array(AuditCheckSchema),
  skipped: Type.Array(AuditSkipSchema),
  /**
   * The GPUs the next audit expects: the server's approved list when it sent one, else the
   * previous expectation, else what this audit saw. It never shrinks by itself, so a GPU that
   * vanishes keeps failing local audits too until the server approves the new hardware.
   */
  expectedGpus: Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64 }),
  /** When the last audit the server asked for finished: Xid events after it count next time. */
  serverAuditAt: Type.Optional(Type.String()),
  /** The signed report while it has not reached the server (sent on the next connection). */
  unsentJws: Type.Optional(Type.String()),
});
export type AuditRecord = Static<typeof AuditRecordSchema>;
const checkRecord = Compile(AuditRecordSchema);

export async function loadAuditRecord(stateDir: string): Promise<AuditRecord | undefined> {
  const text = await readTextIfExists(join(stateDir, AUDIT_FILES.last)).catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return checkRecord.Check(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function saveAuditRecord(stateDir: string, record: AuditRecord): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(stateDir, AUDIT_FILES.last), `${JSON.stringify(record, null, 2)}\n`, 0o600);
}

export interface AuditLock {
  release(): Promise<void>;
}

export type LockResult = { ok: true; lock: AuditLock } | { ok: false; holder: { pid: number; what: string } };

/** Longer than any suite can run (`maxSeconds` is at most an hour): such a lock is stale. */
export const LOCK_MAX_AGE_MS = 2 * 3_600_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * Take `audit.lock` (O_EXCL). A lock left by a process that no longer runs, by this very process
 * id, or older than `LOCK_MAX_AGE_MS` is removed and taken.
 */
export async function acquireAuditLock(stateDir: string, what: string, nowIso: string): Promise<LockResult> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, AUDIT_FILES.lock);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(JSON.stringify({ pid: process.pid, what, since: nowIso }));
      await handle.close();
      return { ok: true, lock: { release: () => unlink(path).catch(() => undefined) } };
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    const holder = await readFile(path, 'utf8')
      .then((text): unknown => JSON.parse(text))
      .catch(() => undefined);
    const pid = typeof holder === 'object' && holder !== null && 'pid' in holder ? Number(holder.pid) : NaN;
    const held =
      typeof holder === 'object' && holder !== null && 'what' in holder ? String(holder.what) : 'an audit';
    const age = await stat(path).then(
      (st) => Date.parse(nowIso) - st.mtimeMs,
      () => Infinity,
    );
    // Our own pid in the lock is a previous life of this process (pid reused after a restart);
    // no suite runs for hours, so an old lock is stale whoever holds the pid now.
    const fresh = age < LOCK_MAX_AGE_MS;
    if (fresh && Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
      return { ok: false, holder: { pid, what: held } };
    // Unreadable: maybe another process is writing it this instant; only an old one is stale.
    if (!Number.isInteger(pid) && age < 10_000) return { ok: false, holder: { pid: 0, what: held } };
    await unlink(path).catch(() => undefined);
  }
  return { ok: false, holder: { pid: 0, what: 'an audit' } };
}

/**
 * The report of an audit that finished while the channel was down, removed from the record as it
 * is handed over (the caller sends it first thing on the new connection).
 */
export async function takeUnsentReport(
  stateDir: string,
): Promise<{ auditId: string; jws: string } | undefined> {
  const record = await loadAuditRecord(stateDir);
  if (!record?.unsentJws || !record.auditId) return undefined;
  const { unsentJws, ...rest } = record;
  await saveAuditRecord(stateDir, rest);
  return { auditId: record.auditId, jws: unsentJws };
}
