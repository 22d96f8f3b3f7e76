/** The kernel's id of this boot (a new one after every reboot), or a random one where there is none. */
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export async function readBootId(): Promise<string> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim() || randomUUID();
  } catch {
    return randomUUID();
  }
}
