/**
 * node-pty built for the image's Node runtime, in a build folder of its own (never in the shared
 * node_modules): the package copied without its build output, `npm rebuild --nodedir=RUNTIME` (npm's
 * own node-gyp, against the runtime's headers, nothing downloaded), then a real pseudo-terminal
 * opened with the runtime to prove that the result loads. Cached per node-pty and Node version.
 */
import { existsSync } from 'node:fs';
import { cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import type { NodeRuntime } from '../scripts/node-runtime.js';

export interface BuiltNodePty {
  /** The package folder: package.json, lib/, build/Release/pty.node. */
  dir: string;
  version: string;
}

async function packageVersion(dir: string): Promise<string> {
  const json = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
  if (typeof json.version !== 'string') throw new Error(`${dir}/package.json has no version.`);
  return json.version;
}

/** The runtime opens a pty running `echo` and must read its output back. */
const SMOKE_TEST = `
const pty = require(process.argv[1]);
const p = pty.spawn('/bin/echo', ['pty-ok'], { cols: 80, rows: 24 });
let out = '';
p.onData((d) => (out += d));
p.onExit(({ exitCode }) => {
  process.stdout.write(out.trim() + '\\n');
  process.exit(exitCode);
});
`;

export async function buildNodePty(
  repo: string,
  runtime: NodeRuntime,
  cacheDir: string,
  log: (line: string) => void = () => {},
): Promise<BuiltNodePty> {
  const source = join(repo, 'node_modules/node-pty');
  const version = await packageVersion(source);
  const home = join(cacheDir, `node-pty-${version}-node-v${runtime.version}`);
  const dir = join(home, 'node_modules/node-pty');
  if (existsSync(join(home, '.complete'))) {
    log(`cached: ${dir}`);
    return { dir, version };
  }
  const tmp = `${home}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(join(tmp, 'node_modules'), { recursive: true });
  await writeFile(
    join(tmp, 'package.json'),
    `${JSON.stringify({ name: 'homenode-node-pty-build', private: true, dependencies: { 'node-pty': version } })}\n`,
  );
  await cp(source, join(tmp, 'node_modules/node-pty'), {
    recursive: true,
    filter: (src) => !/\/node-pty\/(build|prebuilds)(\/|$)/.test(src),
  });
  await cp(join(repo, 'node_modules/node-addon-api'), join(tmp, 'node_modules/node-addon-api'), {
    recursive: true,
  });
  log(`npm rebuild node-pty --nodedir=${runtime.dir}`);
  const built = await execa(
    'npm',
    ['rebuild', 'node-pty', '--foreground-scripts', `--nodedir=${runtime.dir}`],
    {
      cwd: tmp,
      env: {
        PATH: `${join(runtime.dir, 'bin')}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        npm_config_build_from_source: 'true',
        npm_config_nodedir: runtime.dir,
        npm_config_update_notifier: 'false',
        npm_config_audit: 'false',
        npm_config_fund: 'false',
      },
      all: true,
      reject: false,
      timeout: 15 * 60_000,
    },
  );
  if (built.failed) {
    const tail = String(built.all ?? '')
      .trim()
      .split('\n')
      .slice(-20)
      .join('\n');
    throw new Error(
      `Building node-pty ${version} for Node ${runtime.version} failed (${built.shortMessage}). ` +
        `It needs python3, make and g++ (apt-get install -y python3 make g++):\n${tail}`,
    );
  }
  const ptyDir = join(tmp, 'node_modules/node-pty');
  const smoke = await execa(runtime.node, ['-e', SMOKE_TEST, ptyDir], { timeout: 60_000, reject: false });
  if (smoke.failed || smoke.stdout.trim() !== 'pty-ok')
    throw new Error(
      `node-pty built for Node ${runtime.version} does not work: ${smoke.stderr || smoke.stdout || smoke.shortMessage}`,
    );
  await writeFile(join(tmp, '.complete'), `${runtime.version}\n`);
  await rm(home, { recursive: true, force: true });
  await rename(tmp, home);
  return { dir, version };
}
