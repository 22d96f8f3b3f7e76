/**
 * The state directory on a real file system: atomic writes, 0600 for secrets, and a process killed
 * at random moments while writing its identity leaves either no identity or a complete one.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../agent/state/atomic-file.js';
import { loadOrCreateIdentity } from '../../agent/state/identity.js';
import { createStateStore } from '../../agent/state/state-store.js';
import { ROOT, tempDir } from './agent-support.js';

describe('agent state', () => {
  it('writes atomically at mode 0600 and leaves no temp file behind', async () => {
    const dir = tempDir();
    const path = join(dir, 'x.json');
    writeFileSync(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['x.json']);
  });

  it('creates the identity once and returns the same key pair afterwards', async () => {
    const store = createStateStore(join(tempDir(), 'state'));
    const first = await loadOrCreateIdentity(store, () => 0);
    const second = await loadOrCreateIdentity(store, () => 1);
    expect(second).toEqual(first);
    expect(first.publicKey).toEqual({ kty: 'OKP', crv: 'Ed25519', x: first.privateKey.x });
    expect(first.publicKey).not.toHaveProperty('d');
    expect(statSync(store.identity.path).mode & 0o777).toBe(0o600);
  });

  it('never leaves a partial identity when killed at any moment', async () => {
    const script = `
      import { createStateStore } from './agent/state/state-store.ts';
      import { generateIdentity } from './agent/state/identity.ts';
      const store = createStateStore(process.argv[1]);
      process.stdout.write('ready\\n');
      for (;;) await store.identity.save({ ...(await generateIdentity(Date.now)), createdAt: 'x'.repeat(20000) });
    `;
    for (let round = 0; round < 6; round += 1) {
      const dir = join(tempDir(), 'state');
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await new Promise((resolve) => setTimeout(resolve, 5 + ((round * 37) % 60)));
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      const store = createStateStore(dir);
      const identity = await store.identity.load(); // throws on a partial or corrupt file
      if (identity) expect(identity.privateKey.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
  });
});
