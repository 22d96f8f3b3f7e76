/**
 * The join's file writes, all durable (temp file, fsync, rename, fsync of the folder): a config
 * rewritten only when its content changes, and a program installed whole or not at all (a power
 * cut never leaves half a k3s binary where systemd starts it).
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { readTextIfExists, syncDirectory, writeFileAtomic } from '../state/atomic-file.js';

/** Writes `text` when it differs from what is there; true when it was written. */
export async function writeIfChanged(path: string, text: string, mode = 0o600): Promise<boolean> {
  if ((await readTextIfExists(path)) === text) return false;
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  await writeFileAtomic(path, text, mode);
  return true;
}

/** Copies `source` to `target` with `mode`, atomically. */
export async function installFile(source: string, target: string, mode: number): Promise<void> {
  const dir = dirname(target);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = join(dir, `.${basename(target)}.${randomBytes(4).toString('hex')}.new`);
  try {
    await copyFile(source, temp);
    const handle = await open(temp, 'r+');
    try {
      await handle.chmod(mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}
