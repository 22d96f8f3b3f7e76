/**
 * The cluster, overlay and artifact settings (issue 11's dev defaults): outside dev mode the server
 * refuses to start without real values and names every missing variable; values are checked by the
 * same patterns the agent checks them with; the development hub key is a real WireGuard key.
 */
import { describe, expect, it } from 'vitest';
import {
  CLUSTER_VARIABLES,
  ConfigError,
  DEV_CLUSTER,
  loadConfig,
  parsePackageList,
} from '../../enroll-server/core/config.js';
import { NVIDIA_TOOLKIT_PACKAGES } from '../../protocol/artifacts.js';
import { isJoinField } from '../../protocol/join-fields.js';

const REAL = {
  HOMENODE_CLUSTER_SERVER: 'https://k3s.example.net:6443',
  HOMENODE_CLUSTER_TOKEN: 'K10abc123::server:s3cret',
  HOMENODE_WG_HUB_PUBLIC_KEY: 'A5PdAVG5X3iapC5I1ezbrc0nZD1SxpVMI8NrK5VkM1o=',
  HOMENODE_WG_HUB_ENDPOINT: 'hub.example.net:51820',
};

describe('cluster settings', () => {
  it('refuses to start without real values outside dev mode, naming every missing variable', () => {
    let thrown: unknown;
    try {
      loadConfig({});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const message = (thrown as Error).message;
    for (const { variable } of CLUSTER_VARIABLES) expect(message).toContain(variable);
    expect(message).toMatch(/HOMENODE_DEV=1 \(npm run dev\)/);
    expect(() => loadConfig({ ...REAL, HOMENODE_WG_HUB_ENDPOINT: '' })).toThrow(
      /^HOMENODE_WG_HUB_ENDPOINT is not set\./,
    );
  });

  it('takes the real values and is not in dev mode', () => {
    const config = loadConfig(REAL);
    expect(config.dev).toBe(false);
    expect(config.cluster).toEqual({
      server: REAL.HOMENODE_CLUSTER_SERVER,
      token: REAL.HOMENODE_CLUSTER_TOKEN,
      hubPublicKey: REAL.HOMENODE_WG_HUB_PUBLIC_KEY,
      hubEndpoint: REAL.HOMENODE_WG_HUB_ENDPOINT,
      overlayCidr: '100.64.0.0/10',
      keepaliveSeconds: 25,
    });
  });

  it('refuses the development values outside dev mode, without printing the token', () => {
    expect(() => loadConfig({ ...REAL, HOMENODE_CLUSTER_TOKEN: DEV_CLUSTER.token })).toThrow(
      'HOMENODE_CLUSTER_TOKEN="(hidden)": is the development default',
    );
    expect(() => loadConfig({ ...REAL, HOMENODE_WG_HUB_PUBLIC_KEY: DEV_CLUSTER.hubPublicKey })).toThrow(
      /HOMENODE_WG_HUB_PUBLIC_KEY=.*is the development default/,
    );
  });

  it('checks each value by the pattern the agent checks it with', () => {
    // The old development key: 42 characters, which wg-quick refuses.
    expect(() =>
      loadConfig({ ...REAL, HOMENODE_WG_HUB_PUBLIC_KEY: 'DEVhubPublicKeyDEVhubPublicKeyDEVhubPubKE=' }),
    ).toThrow(/HOMENODE_WG_HUB_PUBLIC_KEY=.*must be a WireGuard key: 44 characters of base64/);
    expect(() => loadConfig({ ...REAL, HOMENODE_CLUSTER_SERVER: 'http://k3s.example.net:6443' })).toThrow(
      /HOMENODE_CLUSTER_SERVER=.*must be https:\/\/host:port/,
    );
    expect(() =>
      loadConfig({ ...REAL, HOMENODE_WG_HUB_ENDPOINT: 'hub.example.net:51820\nPostUp = id' }),
    ).toThrow(/HOMENODE_WG_HUB_ENDPOINT=.*must be host:port/);
    expect(() => loadConfig({ ...REAL, HOMENODE_OVERLAY_CIDR: '100.64.0.0/31' })).toThrow(
      /HOMENODE_OVERLAY_CIDR=.*room for nodes/,
    );
  });

  it('uses valid development values in dev mode (a hub key wg accepts)', () => {
    const config = loadConfig({ HOMENODE_DEV: '1' });
    expect(config.dev).toBe(true);
    expect(config.cluster).toEqual(DEV_CLUSTER);
    expect(isJoinField('wireguardKey', DEV_CLUSTER.hubPublicKey)).toBe(true);
    expect(Buffer.from(DEV_CLUSTER.hubPublicKey, 'base64')).toHaveLength(32);
    expect(loadConfig({ HOMENODE_DEV: '1', HOMENODE_CLUSTER_TOKEN: 'mine' }).cluster.token).toBe('mine');
  });
});

describe('artifact settings', () => {
  it('defaults to the NVIDIA toolkit packages, newest uploaded k3s, a 4 GiB cap', () => {
    const { artifacts } = loadConfig({ HOMENODE_DEV: '1' });
    expect(artifacts.packages).toEqual(NVIDIA_TOOLKIT_PACKAGES.map((name) => ({ name })));
    expect(artifacts.k3sVersion).toBeUndefined();
    expect(artifacts.maxBytes).toBe(4 * 1024 ** 3);
  });

  it('reads pinned versions and package lists, and refuses malformed ones', () => {
    expect(parsePackageList('none')).toEqual([]);
    expect(parsePackageList('a, b@1.2.3-1')).toEqual([{ name: 'a' }, { name: 'b', version: '1.2.3-1' }]);
    expect(() => parsePackageList('Bad Name')).toThrow(
      /HOMENODE_NODE_PACKAGES=.*"Bad Name" is not an artifact name/,
    );
    expect(loadConfig({ HOMENODE_DEV: '1', HOMENODE_K3S_VERSION: 'v1.31.4+k3s1' }).artifacts.k3sVersion).toBe(
      'v1.31.4+k3s1',
    );
    expect(() => loadConfig({ HOMENODE_DEV: '1', HOMENODE_K3S_VERSION: 'v1 31' })).toThrow(
      /HOMENODE_K3S_VERSION/,
    );
  });
});
