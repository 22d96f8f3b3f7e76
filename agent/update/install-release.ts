/**
 * Unpacking a downloaded (and already verified) agent release into `releases/<version>/`: into a
 * temporary folder first, its `release.json` checked (the name, the version the server signed, the
 * entry point there), written to the disk (every file and folder fsynced), then renamed into
 * place. The release `current` names, and the one to roll back to, are never overwritten (a failed
 * update must not damage the good slot).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Compile } from 'typebox/compile';
import { RELEASE_ENTRY, RELEASE_MANIFEST, ReleaseManifestSchema } from '../../protocol/update.js';
import { syncDirectory, syncTree } from '../state/atomic-file.js';
import { type ReleaseLayout, releaseDir } from './release-layout.js';

const run = promisify(execFile);
const checkManifest = Compile(ReleaseManifestSchema);

export class ReleaseRefusedError extends Error {
  override readonly name = 'ReleaseRefusedError';
}

export async function installRelease(
  layout: ReleaseLayout,
  file: string,
  version: string,
  protectedVersions: string[],
): Promise<string> {
  const target = releaseDir(layout, version);
  if (protectedVersions.includes(version))
    throw new ReleaseRefusedError(
      `Release ${version} is the one running or the one to roll back to; it is not replaced.`,
    );
  await mkdir(layout.releases, { recursive: true });
  const incoming = join(layout.releases, `.incoming-${version}-${randomBytes(4).toString('hex')}`);
  await mkdir(incoming);
  try {
    try {
      await run('tar', ['-xzf', file, '-C', incoming, '--no-same-owner', '--no-overwrite-dir'], {
        timeout: 120_000,
      });
    } catch (error) {
      throw new ReleaseRefusedError(
        `The release file for ${version} could not be unpacked (${error instanceof Error ? error.message.split('\n')[0] : String(error)}).`,
      );
    }
    let manifest: unknown;
    try {
      manifest = JSON.parse(await readFile(join(incoming, RELEASE_MANIFEST), 'utf8'));
    } catch {
      throw new ReleaseRefusedError(`The release file for ${version} has no readable ${RELEASE_MANIFEST}.`);
    }
    if (!checkManifest.Check(manifest))
      throw new ReleaseRefusedError(`The ${RELEASE_MANIFEST} in the release for ${version} is not valid.`);
    if (manifest.version !== version)
      throw new ReleaseRefusedError(
        `The release signed as ${version} says it is ${manifest.version}; it is not installed.`,
      );
    await access(join(incoming, RELEASE_ENTRY)).catch(() => {
      throw new ReleaseRefusedError(`The release for ${version} has no ${RELEASE_ENTRY}.`);
    });
    // On the disk before the name is: `current` will be switched to it right after.
    await syncTree(incoming);
    await rm(target, { recursive: true, force: true });
    await rename(incoming, target);
    await syncDirectory(layout.releases);
    return target;
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }
}
