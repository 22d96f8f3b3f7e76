/**
 * The software a join names, before anything else changes: every artifact verified (signature,
 * then SHA-256) and on disk first; then the runtime packages installed with `dpkg -i` (once per
 * set of files), and the k3s binary put in place. A refused artifact stops the join with nothing
 * installed. Without a k3s artifact the join uses the k3s already installed, or the image's own.
 */
import { rm } from 'node:fs/promises';
import { K3S_ARTIFACT } from '../../protocol/artifacts.js';
import type { JoinMessage } from '../../protocol/control.js';
import {
  ArtifactRefusedError,
  checkSignature,
  fetchArtifact,
  sha256OfFile,
} from '../artifacts/fetch-artifact.js';
import { installFile } from './join-files.js';
import { type JoinDeps, JoinStepError, must } from './join-context.js';

export interface PreparedSoftware {
  /** A verified k3s to install, or undefined to keep the installed one. */
  k3sFile: string | undefined;
  k3sSha256: string;
  packageFiles: string[];
  packageShas: string[];
}

function fetchDeps(deps: JoinDeps) {
  return {
    ...deps.fetch,
    releaseKey: deps.config.releaseKey,
    downloadDir: deps.config.paths.downloadDir,
  };
}

async function refusedAsStep<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ArtifactRefusedError)
      throw new JoinStepError('artifact', error.message, { cause: error });
    throw error;
  }
}

/** Verifies and fetches everything the join names; changes nothing outside the download folder. */
export async function prepareSoftware(
  join: JoinMessage,
  deps: JoinDeps,
  installedPackages: readonly string[] | undefined,
): Promise<PreparedSoftware> {
  const { paths } = deps.config;
  const fetch = fetchDeps(deps);
  return refusedAsStep(async () => {
    const packageFiles: string[] = [];
    // The same set as last time is installed already: its signatures are checked, nothing downloaded.
    const sameSet = installedPackages !== undefined && installedPackages.join(',') === shas(join).join(',');
    for (const pkg of join.packages ?? []) {
      const claims = { name: pkg.name, version: pkg.version, sha256: pkg.sha256, size: pkg.size };
      if (sameSet) await checkSignature(claims, pkg.signature, fetch);
      else packageFiles.push(await fetchArtifact(pkg.name, pkg, fetch));
    }
    const installed = await sha256OfFile(paths.k3sBinary);
    if (join.k3s) {
      if (installed === join.k3s.sha256) {
        // Still checked: the join must be signed even when nothing needs downloading.
        await fetchArtifact(K3S_ARTIFACT, join.k3s, fetch, [paths.k3sBinary]);
        return { k3sFile: undefined, k3sSha256: installed, packageFiles, packageShas: shas(join) };
      }
      const file = await fetchArtifact(K3S_ARTIFACT, join.k3s, fetch, [paths.embeddedK3s]);
      return { k3sFile: file, k3sSha256: join.k3s.sha256, packageFiles, packageShas: shas(join) };
    }
    if (installed) return { k3sFile: undefined, k3sSha256: installed, packageFiles, packageShas: shas(join) };
    const embedded = await sha256OfFile(paths.embeddedK3s);
    if (embedded)
      return { k3sFile: paths.embeddedK3s, k3sSha256: embedded, packageFiles, packageShas: shas(join) };
    throw new JoinStepError(
      'k3s',
      'The server offered no k3s and this machine has none, so it cannot join the cluster yet. Ops: ' +
        'upload one (npm run admin -- artifacts upload --name k3s --version V FILE, docs/node-software.md) ' +
        'or build the image with --k3s. The agent tries again later.',
    );
  });
}

const shas = (join: JoinMessage) => (join.packages ?? []).map((p) => p.sha256);

/** `dpkg -i` the packages when this set was not installed before; true when it ran. */
export async function installPackages(
  prepared: PreparedSoftware,
  installedShas: readonly string[] | undefined,
  deps: JoinDeps,
): Promise<boolean> {
  if (prepared.packageFiles.length === 0) return false;
  if (installedShas && installedShas.join(',') === prepared.packageShas.join(',')) return false;
  // --force-confold: a config file an operator changed on this machine is kept.
  must(
    await deps.exec('dpkg', ['-i', '--force-confold', ...prepared.packageFiles], { timeoutMs: 10 * 60_000 }),
    'packages',
    'Installing the runtime packages failed',
  );
  deps.log('join_packages', `Installed ${prepared.packageFiles.length} runtime package(s) with dpkg.`);
  return true;
}

/** Puts the verified k3s in place; true when the binary changed. */
export async function installK3s(prepared: PreparedSoftware, deps: JoinDeps): Promise<boolean> {
  if (!prepared.k3sFile) return false;
  try {
    await installFile(prepared.k3sFile, deps.config.paths.k3sBinary, 0o755);
  } catch (error) {
    throw new JoinStepError(
      'k3s',
      `Installing k3s at ${deps.config.paths.k3sBinary} failed: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  deps.log('join_k3s_installed', `k3s installed at ${deps.config.paths.k3sBinary}.`);
  return true;
}

/** Verified downloads are not kept once installed (a k3s binary is ~70 MB). */
export async function removeDownloads(deps: JoinDeps): Promise<void> {
  await rm(deps.config.paths.downloadDir, { recursive: true, force: true });
}
