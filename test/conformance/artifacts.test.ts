/** Artifacts (issue 14) and the overlay's one-key-one-node rule on both engines. */
import { afterEach, describe, expect, it } from 'vitest';
import type { ArtifactRecord } from '../../enroll-server/artifacts/artifact-repository.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { T0, seedNode } from './fixtures.js';

const artifact = (name: string, version: string, createdAt: number, sha = 'a'): ArtifactRecord => ({
  name,
  version,
  sha256: sha.repeat(64).slice(0, 64),
  size: 1234,
  signature: `jws-${name}-${version}`,
  uploadedBy: 'tok_1',
  createdAt,
});

describe.each(ENGINES)('artifact and network repositories on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e.repos;
  }

  it('artifacts: one row per name and version, newest first (later upload wins a tie), counted by sha256', async () => {
    const repos = await setup();
    expect(await repos.artifacts.insert(artifact('k3s', 'v1.30.1', T0))).toBe(true);
    expect(await repos.artifacts.insert(artifact('k3s', 'v1.30.1', T0 + 9, 'b'))).toBe(false);
    expect(await repos.artifacts.insert(artifact('k3s', 'v1.30.3', T0 + 5, 'b'))).toBe(true);
    // Same millisecond: the one stored later is the newer.
    expect(await repos.artifacts.insert(artifact('k3s', 'v1.30.2', T0 + 5, 'c'))).toBe(true);
    expect(await repos.artifacts.insert(artifact('nvidia-container-toolkit', '1.16.0', T0 + 1))).toBe(true);
    expect(await repos.artifacts.get('k3s', 'v1.30.1')).toEqual(artifact('k3s', 'v1.30.1', T0));
    expect(await repos.artifacts.get('k3s', 'v9')).toBeUndefined();
    const versions = (rows: ArtifactRecord[]) => rows.map((r) => `${r.name}@${r.version}`);
    expect(versions(await repos.artifacts.list({ limit: 10 }))).toEqual([
      'k3s@v1.30.2',
      'k3s@v1.30.3',
      'nvidia-container-toolkit@1.16.0',
      'k3s@v1.30.1',
    ]);
    expect(versions(await repos.artifacts.list({ name: 'k3s', limit: 2 }))).toEqual([
      'k3s@v1.30.2',
      'k3s@v1.30.3',
    ]);
    expect((await repos.artifacts.newest('k3s'))?.version).toBe('v1.30.2');
    expect(await repos.artifacts.newest('nothing')).toBeUndefined();
    expect(await repos.artifacts.countBySha256('a'.repeat(64))).toBe(2);
    expect(await repos.artifacts.countBySha256('f'.repeat(64))).toBe(0);
  });

  it('network: a WireGuard key belongs to one node; its holder is found', async () => {
    const repos = await setup();
    await seedNode(repos, 1);
    await seedNode(repos, 2);
    await repos.network.ensure('node_1', T0);
    await repos.network.ensure('node_2', T0);
    const key = 'k'.repeat(43) + '=';
    expect(await repos.network.holderOf(key)).toBeUndefined();
    await repos.network.setJoined('node_1', key, T0 + 1);
    expect(await repos.network.holderOf(key)).toBe('node_1');
    await expect(repos.network.setJoined('node_2', key, T0 + 2)).rejects.toThrow();
    // The same node joining again with its key is fine.
    await repos.network.setJoined('node_1', key, T0 + 3);
    expect((await repos.network.peers()).map((p) => [p.nodeId, p.wireguardPublicKey, p.joinedAt])).toEqual([
      ['node_1', key, T0 + 3],
      ['node_2', null, null],
    ]);
  });
});
