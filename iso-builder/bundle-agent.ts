/**
 * The agent as one ES module (esbuild) for the image's Node 24, with node-pty kept outside the
 * bundle and copied next to it as a tiny node_modules: its JavaScript and the pty.node built for
 * that runtime (iso-builder/node-pty.ts).
 */
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

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
