/**
 * `npm run build:iso -- --server URL`: the Home Node ISO from Debian's packages. Steps (each printed
 * with its duration): check the host, bundle the agent, build (or reuse) the Debian root with
 * mmdebstrap, add the Node runtime, agent, config and units, make the squashfs, make a hybrid
 * BIOS/UEFI ISO with grub-mkrescue (xorriso), then write its SHA-256 and a manifest. See docs/iso.md.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { pickKernel } from '../agent/install/plan.js';
import { AGENT_VERSION } from '../agent/version.js';
import { bundleAgent } from './bundle-agent.js';
import { imageConfig, STANDIN_PATH } from './image-config.js';
import { OptionError, parseBuildOptions, USAGE, type BuildOptions } from './options.js';
import { PACKAGES, SUITE, mmdebstrapArgs, rootCacheKey } from './packages.js';
import { missingPackages } from './tools.js';

const REPO = resolve(import.meta.dirname, '..');
const OVERLAY = join(REPO, 'iso-builder/overlay');
const UNITS_ENABLED = [
  'homenode-setup@tty1.service',
  'homenode-setup@ttyS0.service',
  'homenode-agent.service',
  'homenode-log@tty1.service',
  'homenode-log@ttyS0.service',
  'systemd-networkd.service',
  'systemd-resolved.service',
  'systemd-timesyncd.service',
];
/** The agent owns tty1 and the serial console; a login is on tty2 (Alt-F2). */
const UNITS_MASKED = ['getty@tty1.service', 'serial-getty@ttyS0.service'];

let logStream: NodeJS.WritableStream | undefined;

async function run(program: string, args: readonly string[], env: Record<string, string> = {}) {
  const child = execa(program, [...args], {
    env,
    stdin: 'ignore',
    all: true,
    reject: false,
    timeout: 20 * 60_000,
  });
  logStream?.write(`\n$ ${program} ${args.join(' ')}\n`);
  child.all?.on('data', (chunk: Buffer) => logStream?.write(chunk));
  const result = await child;
  if (result.failed) {
    const tail = String(result.all ?? '')
      .trim()
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`${program} failed (${result.shortMessage}):\n${tail}`);
  }
  return String(result.stdout ?? '');
}

async function step<T>(title: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  process.stdout.write(`==> ${title}\n`);
  const value = await fn();
  process.stdout.write(`    done in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
  return value;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

/** Everything the ISO is made of, hashed: the same digest means `--reuse` may skip the build. */
async function inputsDigest(o: BuildOptions, rootKey: string): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      server: o.server,
      pin: o.pin,
      test: o.testStandins,
      rootKey,
      node: process.version,
      epoch: process.env.SOURCE_DATE_EPOCH ?? null,
    }),
  );
  const dirs = ['agent', 'protocol', 'iso-builder', ...(o.testStandins ? ['test/fixtures/agent'] : [])];
  for (const dir of dirs)
    for (const file of await listFiles(join(REPO, dir))) {
      hash.update(relative(REPO, file));
      hash.update(await readFile(file));
    }
  hash.update(await readFile(join(REPO, 'package-lock.json')));
  return hash.digest('hex');
}

/**
 * With SOURCE_DATE_EPOCH: xorriso's volume dates, file dates and GPT disk GUID come from it, and
 * the EFI image's FAT serial (mformat picks a random one; grub-mkrescue cannot pass -N) too.
 */
async function reproducibleIsoSettings(work: string, epoch: string) {
  const seconds = Number(epoch);
  if (!Number.isInteger(seconds) || seconds < 0)
    throw new OptionError(`SOURCE_DATE_EPOCH "${epoch}" is not a number of seconds.`);
  const stamp = `${new Date(seconds * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14)}00`;
  const shim = join(work, 'shim');
  await mkdir(shim, { recursive: true });
  const serial = (seconds >>> 0).toString(16).padStart(8, '0');
  await writeFile(join(shim, 'mformat'), `#!/bin/sh\nexec /usr/bin/mformat -N ${serial} "$@"\n`, {
    mode: 0o755,
  });
  return {
    args: [
      '-volume_date',
      'c',
      stamp,
      '-volume_date',
      'm',
      stamp,
      '-volume_date',
      'uuid',
      stamp,
      '-volume_date',
      'all_file_dates',
      `=${seconds}`,
      '-boot_image',
      'any',
      'gpt_disk_guid=volume_date_uuid',
    ],
    env: { PATH: `${shim}:${process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin'}` },
  };
}

async function ensureHost(o: BuildOptions): Promise<void> {
  if (process.getuid?.() !== 0) {
    throw new OptionError(
      'Building the ISO needs root (mmdebstrap, chroot, device nodes). Run it with sudo or as root.',
    );
  }
  if (!process.version.startsWith('v20.')) {
    throw new OptionError(
      `The image carries this Node runtime and must be Node 20; this is ${process.version}.`,
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

async function debianRoot(o: BuildOptions, key: string): Promise<string> {
  const cached = join(o.cacheDir, `root-${key}`);
  if (existsSync(join(cached, '.complete'))) {
    process.stdout.write(`    cached: ${cached}\n`);
    return cached;
  }
  const tmp = `${cached}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(o.cacheDir, { recursive: true });
  const spec = { suite: SUITE, mirror: o.mirror, securityMirror: o.securityMirror };
  await run('mmdebstrap', mmdebstrapArgs(spec, tmp));
  await writeFile(join(tmp, '.complete'), `${new Date().toISOString()}\n`);
  await rm(cached, { recursive: true, force: true });
  await rename(tmp, cached);
  return cached;
}

async function overlay(o: BuildOptions, root: string, agentDir: string): Promise<void> {
  await run('cp', ['-a', `${OVERLAY}/.`, `${root}/`]);
  await mkdir(join(root, 'opt/homenode/node/bin'), { recursive: true });
  await cp(process.execPath, join(root, 'opt/homenode/node/bin/node'));
  await chmod(join(root, 'opt/homenode/node/bin/node'), 0o755);
  await run('cp', ['-a', `${agentDir}/.`, join(root, 'opt/homenode/agent')]);
  await mkdir(join(root, 'etc/homenode'), { recursive: true });
  await writeFile(join(root, 'etc/homenode/config.json'), `${JSON.stringify(imageConfig(o), null, 2)}\n`);
  if (o.testStandins) {
    await mkdir(join(root, 'opt/homenode/standins'), { recursive: true });
    for (const dir of ['bin-rtx4090', 'bin-cluster', 'k3s'])
      await run('cp', ['-a', join(REPO, 'test/fixtures/agent', dir), join(root, 'opt/homenode/standins')]);
    await writeFile(
      join(root, 'etc/homenode/agent.env'),
      `# Test image only: stand-in GPU and cluster programs.\nPATH=${STANDIN_PATH}\n`,
    );
  }
  await run('systemctl', [`--root=${root}`, 'enable', ...UNITS_ENABLED]);
  await run('systemctl', [`--root=${root}`, 'mask', ...UNITS_MASKED]);
  await rm(join(root, '.complete'), { force: true });
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
  const env: Record<string, string> = epoch ? { SOURCE_DATE_EPOCH: epoch } : {};
  const key = rootCacheKey({ suite: SUITE, mirror: o.mirror, securityMirror: o.securityMirror });

  await step('Checking the host (root, Node 20, Debian tools)', () => ensureHost(o));
  const digest = await inputsDigest(o, key);
  const manifestPath = out.replace(/\.iso$/, '') + '.manifest.json';
  if (o.reuse && existsSync(out) && existsSync(manifestPath)) {
    const previous = JSON.parse(await readFile(manifestPath, 'utf8')) as { inputsDigest?: string };
    if (previous.inputsDigest === digest) {
      process.stdout.write(`${relative(REPO, out)} is up to date (same inputs); not rebuilt.\n`);
      return 0;
    }
  }
  await mkdir(work, { recursive: true });
  await mkdir(dirname(out), { recursive: true });
  logStream = createWriteStream(join(work, 'build.log'));
  process.stdout.write(`    log: ${relative(REPO, join(work, 'build.log'))}\n`);

  const agentDir = join(work, 'agent');
  await step('Bundling the agent (esbuild) with node-pty', async () => {
    await rm(agentDir, { recursive: true, force: true });
    await bundleAgent(REPO, agentDir);
  });
  const cached = await step(`Debian ${SUITE} root (mmdebstrap, cache key ${key})`, () => debianRoot(o, key));
  const root = join(work, 'root');
  await step('Copying the root and adding Node, the agent, config and units', async () => {
    await rm(root, { recursive: true, force: true });
    await run('cp', ['-a', '--reflink=auto', cached, root]);
    await overlay(o, root, agentDir);
  });
  const versions = await run('dpkg-query', [
    `--admindir=${root}/var/lib/dpkg`,
    '-W',
    '-f',
    '${Package}\t${Version}\n',
  ]);
  const iso = join(work, 'iso');
  await step('Making the squashfs (zstd)', async () => {
    await rm(iso, { recursive: true, force: true });
    await mkdir(join(iso, 'live'), { recursive: true });
    await mkdir(join(iso, 'boot/grub'), { recursive: true });
    const kernel = pickKernel(await readdir(join(root, 'boot')));
    if (!kernel) throw new Error('The Debian root has no kernel in /boot.');
    await cp(join(root, 'boot', kernel.kernel), join(iso, 'live/vmlinuz'));
    await cp(join(root, 'boot', kernel.initrd), join(iso, 'live/initrd.img'));
    const grub = (await readFile(join(REPO, 'iso-builder/grub-live.cfg'), 'utf8')).replace(
      '@TIMEOUT@',
      o.testStandins ? '1' : '5',
    );
    await writeFile(join(iso, 'boot/grub/grub.cfg'), grub);
    await run(
      'mksquashfs',
      [
        root,
        join(iso, 'live/filesystem.squashfs'),
        '-noappend',
        '-comp',
        'zstd',
        '-Xcompression-level',
        '6',
        '-quiet',
        '-no-progress',
      ],
      env,
    );
  });
  await step('Making the hybrid BIOS/UEFI ISO (grub-mkrescue, xorriso)', async () => {
    await rm(out, { force: true });
    const pinned = epoch ? await reproducibleIsoSettings(work, epoch) : { args: [], env: {} };
    await run('grub-mkrescue', ['-o', out, iso, '--', '-volid', 'HOMENODE', ...pinned.args], {
      ...env,
      ...pinned.env,
    });
  });
  await step('Writing the checksum and the manifest', async () => {
    const sum = await sha256File(out);
    await writeFile(`${out}.sha256`, `${sum}  ${basename(out)}\n`);
    const manifest = {
      iso: basename(out),
      sha256: sum,
      sizeBytes: (await stat(out)).size,
      agentVersion: AGENT_VERSION,
      node: process.version,
      debian: { suite: SUITE, mirror: o.mirror, rootCacheKey: key, packagesRequested: PACKAGES },
      config: imageConfig(o),
      testStandins: o.testStandins,
      sourceDateEpoch: epoch ?? null,
      inputsDigest: digest,
      packages: Object.fromEntries(
        versions
          .trim()
          .split('\n')
          .map((l) => l.split('\t') as [string, string]),
      ),
    };
    await writeFile(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  });
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
