/**
 * What goes on top of the cached Debian root: the Node runtime, the agent bundle, the config, the
 * systemd units, the embedded k3s when given (and, in test images only, the stand-ins and the self-test report), then a check
 * that the image's own Node answers with the pinned version.
 */
import { chmod, cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NodeRuntime } from '../scripts/node-runtime.js';
import type { ReleaseKey } from '../protocol/artifacts.js';
import { imageConfig, STANDIN_PATH, TEST_SYSTEMD_DIR } from './image-config.js';
import { embedK3s } from './node-software.js';
import type { BuildOptions } from './options.js';
import { run } from './process.js';

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
/** Test images: the report of the image's software on the second serial port (test/iso). */
const TEST_UNITS_ENABLED = ['homenode-selftest.service'];
/** The agent owns tty1 and the serial console; a login is on tty2 (Alt-F2). */
const UNITS_MASKED = ['getty@tty1.service', 'serial-getty@ttyS0.service'];

export async function applyOverlay(
  repo: string,
  o: BuildOptions,
  root: string,
  agentDir: string,
  runtime: NodeRuntime,
  releaseKey: ReleaseKey | undefined,
): Promise<void> {
  await run('cp', ['-a', `${join(repo, 'iso-builder/overlay')}/.`, `${root}/`]);
  const nodeDir = join(root, 'opt/homenode/node');
  await mkdir(join(nodeDir, 'bin'), { recursive: true });
  await cp(runtime.node, join(nodeDir, 'bin/node'));
  await chmod(join(nodeDir, 'bin/node'), 0o755);
  await cp(join(runtime.dir, 'LICENSE'), join(nodeDir, 'LICENSE'));
  // The release layout (docs/updates.md): the image's agent is the first release, `current` names
  // it, and the supervisor outside the releases starts it and rolls an update back.
  const release = join(root, 'opt/homenode/releases', o.agentVersion);
  await mkdir(release, { recursive: true });
  await run('cp', ['-a', `${agentDir}/.`, release]);
  await symlink(join('releases', o.agentVersion), join(root, 'opt/homenode/current'));
  await mkdir(join(root, 'opt/homenode/supervisor'), { recursive: true });
  await cp(
    join(agentDir, '..', 'homenode-supervisor.mjs'),
    join(root, 'opt/homenode/supervisor/homenode-supervisor.mjs'),
  );
  await mkdir(join(root, 'etc/homenode'), { recursive: true });
  await writeFile(
    join(root, 'etc/homenode/config.json'),
    `${JSON.stringify(imageConfig(o, releaseKey), null, 2)}\n`,
  );
  if (o.k3s) await embedK3s(root, o.k3s);
  if (o.testStandins) {
    await run('cp', ['-a', `${join(repo, 'iso-builder/test-overlay')}/.`, `${root}/`]);
    await mkdir(join(root, 'opt/homenode/standins'), { recursive: true });
    for (const dir of ['bin-rtx4090', 'bin-cluster', 'k3s'])
      await run('cp', ['-a', join(repo, 'test/fixtures/agent', dir), join(root, 'opt/homenode/standins')]);
    await writeFile(
      join(root, 'etc/homenode/agent.env'),
      '# Test image only: stand-in GPU and cluster programs; the systemctl stand-in starts a unit by\n' +
        "# running its ExecStart line from the agent's (test) systemd folder, as systemd would.\n" +
        `PATH=${STANDIN_PATH}\nHOMENODE_STANDIN_SYSTEMD_DIR=${TEST_SYSTEMD_DIR}\n`,
    );
  }
  const enabled = [...UNITS_ENABLED, ...(o.testStandins ? TEST_UNITS_ENABLED : [])];
  await run('systemctl', [`--root=${root}`, 'enable', ...enabled]);
  await run('systemctl', [`--root=${root}`, 'mask', ...UNITS_MASKED]);
  await rm(join(root, '.complete'), { force: true });
  const version = (await run('chroot', [root, '/opt/homenode/node/bin/node', '--version'])).trim();
  if (version !== `v${runtime.version}`)
    throw new Error(`The image's Node says ${version}, not v${runtime.version}.`);
}
