/**
 * The agent as one ES module (esbuild) for the image's Node 24, with node-pty kept outside the
 * bundle and copied next to it as a tiny node_modules: its JavaScript and the pty.node built for
 * that runtime (iso-builder/node-pty.ts).
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { AGENT_ARTIFACT, RELEASE_ENTRY, RELEASE_MANIFEST, type ReleaseManifest } from '../protocol/update.js';

export async function bundleAgent(repoRoot: string, destDir: string, ptyDir: string): Promise<void> {
  await mkdir(destDir, { recursive: true });
  await build({
    entryPoints: [join(repoRoot, 'agent/main.ts')],
    outfile: join(destDir, 'homenode-agent.mjs'),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external: ['node-pty'],
    legalComments: 'none',
    logLevel: 'warning',
    // CommonJS dependencies call require() for Node's own modules.
    banner: {
      js: "import { createRequire as __hnRequire } from 'node:module'; const require = __hnRequire(import.meta.url);",
    },
  });
  const pty = ptyDir;
  const ptyDest = join(destDir, 'node_modules/node-pty');
  await mkdir(join(ptyDest, 'build/Release'), { recursive: true });
  await cp(join(pty, 'package.json'), join(ptyDest, 'package.json'));
  await cp(join(pty, 'LICENSE'), join(ptyDest, 'LICENSE'));
  await cp(join(pty, 'lib'), join(ptyDest, 'lib'), {
    recursive: true,
    filter: (src) => !/\.test\.js$|\.map$/.test(src),
  });
  await cp(join(pty, 'build/Release/pty.node'), join(ptyDest, 'build/Release/pty.node'));
  await writeFile(join(destDir, 'package.json'), '{ "type": "module", "private": true }\n');
}

/** `release.json` beside the bundle: the agent reads its own version from it (docs/updates.md). */
export async function writeReleaseManifest(
  destDir: string,
  version: string,
  nodeVersion: string,
): Promise<ReleaseManifest> {
  const manifest: ReleaseManifest = {
    name: AGENT_ARTIFACT,
    version,
    node: nodeVersion,
    entry: RELEASE_ENTRY,
  };
  await writeFile(join(destDir, RELEASE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/**
 * The supervisor (agent/update/supervisor-main.ts) as one file with no native parts. It lives
 * outside the releases, so that no agent release can break the guard that rolls it back.
 */
export async function bundleSupervisor(repoRoot: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(repoRoot, 'agent/update/supervisor-main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    legalComments: 'none',
    logLevel: 'warning',
  });
}
