/**
 * The overlay: this node's WireGuard key (generated once, kept at 0600), its wg-quick config
 * rewritten when the join changes it, and the interface brought up (or restarted) with wg-quick.
 */
import { mkdir } from 'node:fs/promises';
import { join as joinPath } from 'node:path';
import type { JoinMessage } from '../../protocol/control.js';
import { readTextIfExists, writeFileAtomic } from '../state/atomic-file.js';
import { renderWireguardConfig } from './join-config.js';
import { type JoinDeps, must } from './join-context.js';
import { writeIfChanged } from './join-files.js';

export async function ensureWireguard(
  join: JoinMessage,
  deps: JoinDeps,
): Promise<{ publicKey: string; confPath: string }> {
  const { exec, config } = deps;
  const iface = config.wireguardInterface;
  const dir = config.paths.wireguardDir;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keyPath = joinPath(dir, `${iface}.key`);
  let privateKey = (await readTextIfExists(keyPath))?.trim();
  if (!privateKey) {
    privateKey = must(
      await exec('wg', ['genkey']),
      'wireguard',
      'Generating the WireGuard key failed',
    ).stdout.trim();
    await writeFileAtomic(keyPath, `${privateKey}\n`, 0o600);
    deps.log('join_wireguard_key', `WireGuard key generated (${keyPath}).`);
  }
  const publicKey = must(
    await exec('wg', ['pubkey'], { input: `${privateKey}\n` }),
    'wireguard',
    'Deriving the WireGuard public key failed',
  ).stdout.trim();
  const confPath = joinPath(dir, `${iface}.conf`);
  const changed = await writeIfChanged(confPath, renderWireguardConfig(join, privateKey));
  const up = (await exec('wg', ['show', iface])).ok;
  if (up && changed)
    must(await exec('wg-quick', ['down', confPath]), 'wireguard', `Stopping ${iface} failed`);
  if (!up || changed) {
    must(
      await exec('wg-quick', ['up', confPath], { timeoutMs: 60_000 }),
      'wireguard',
      `Starting ${iface} failed`,
    );
    deps.log('join_wireguard_up', `WireGuard interface ${iface} is up (${join.network.address}).`);
  }
  return { publicKey, confPath };
}
