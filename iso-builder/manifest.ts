/**
 * The inputs digest (`--reuse` skips a build whose inputs are unchanged) and the manifest written
 * beside the ISO: every Debian package and version, the driver, Node and agent versions, the config.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { AGENT_VERSION } from '../agent/version.js';
import { NODE_RUNTIME } from '../scripts/node-runtime.js';
import type { RootFacts } from './debian-root.js';
import { imageConfig } from './image-config.js';
import type { ImageSoftware } from './node-software.js';
import type { BuildOptions } from './options.js';
import { PACKAGES, SUITE } from './packages.js';

export async function sha256File(path: string): Promise<string> {
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
export async function inputsDigest(
  repo: string,
  o: BuildOptions,
  rootKey: string,
  software: ImageSoftware,
): Promise<string> {
  const hash = createHash('sha256');
  hash.update(
    JSON.stringify({
      releaseKey: software.releaseKey?.x ?? null,
      k3s: software.k3sSha256 ?? null,
      server: o.server,
      pin: o.pin,
      insecure: o.allowInsecureHttp,
      test: o.testStandins,
      rootKey,
      node: NODE_RUNTIME,
      epoch: process.env.SOURCE_DATE_EPOCH ?? null,
    }),
  );
  const dirs = ['agent', 'protocol', 'iso-builder', ...(o.testStandins ? ['test/fixtures/agent'] : [])];
  for (const dir of dirs)
    for (const file of await listFiles(join(repo, dir))) {
      hash.update(relative(repo, file));
      hash.update(await readFile(file));
    }
  hash.update(await readFile(join(repo, 'scripts/node-runtime.ts')));
  hash.update(await readFile(join(repo, 'package-lock.json')));
  return hash.digest('hex');
}

export interface ManifestInput {
  out: string;
  options: BuildOptions;
  rootKey: string;
  digest: string;
  software: ImageSoftware;
  rootFacts: RootFacts;
  /** `dpkg-query -W -f '${Package}\t${Version}\n'` of the root. */
  dpkgVersions: string;
  nodePty: string;
}

export async function writeManifest(
  path: string,
  m: ManifestInput,
): Promise<{ sha256: string; size: number }> {
  const sha256 = await sha256File(m.out);
  const size = (await stat(m.out)).size;
  await writeFile(`${m.out}.sha256`, `${sha256}  ${basename(m.out)}\n`);
  const manifest = {
    iso: basename(m.out),
    sha256,
    sizeBytes: size,
    agentVersion: AGENT_VERSION,
    node: {
      version: `v${NODE_RUNTIME.version}`,
      package: NODE_RUNTIME.package,
      integrity: NODE_RUNTIME.integrity,
    },
    nodePty: m.nodePty,
    kernel: m.rootFacts.kernel,
    nvidia: m.rootFacts.nvidia,
    debian: {
      suite: SUITE,
      mirror: m.options.mirror,
      rootCacheKey: m.rootKey,
      packagesRequested: PACKAGES,
    },
    config: imageConfig(m.options, m.software.releaseKey),
    embeddedK3s: m.software.k3sSha256 ? { sha256: m.software.k3sSha256 } : null,
    testStandins: m.options.testStandins,
    sourceDateEpoch: process.env.SOURCE_DATE_EPOCH ?? null,
    inputsDigest: m.digest,
    packages: Object.fromEntries(
      m.dpkgVersions
        .trim()
        .split('\n')
        .map((l) => l.split('\t') as [string, string]),
    ),
  };
  await writeFile(path, `${JSON.stringify(manifest, null, 2)}\n`);
  return { sha256, size };
}
