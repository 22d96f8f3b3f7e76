import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../agent/cli/config.js';
import { imageConfig, STANDIN_PATH } from '../../iso-builder/image-config.js';
import { OptionError, parseBuildOptions } from '../../iso-builder/options.js';
import { mmdebstrapArgs, PACKAGES, rootCacheKey } from '../../iso-builder/packages.js';
import { missingPackages, REQUIRED_TOOLS } from '../../iso-builder/tools.js';

const spec = {
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  securityMirror: 'http://deb.debian.org/debian-security',
};

describe('build:iso options', () => {
  it('needs --server and defaults the output, cache and mirrors', () => {
    expect(() => parseBuildOptions([])).toThrow(/--server URL is required/);
    expect(parseBuildOptions(['--server', 'http://10.0.2.2:8080'])).toMatchObject({
      out: 'dist/homenode.iso',
      cacheDir: '/var/cache/homenode-iso',
      mirror: 'http://deb.debian.org/debian',
      testStandins: false,
      installDeps: false,
    });
    expect(parseBuildOptions(['--server', 'https://h.example', '--test-standins'])).toMatchObject({
      out: 'dist/homenode-test.iso',
    });
  });

  it('names the option and the value it refuses', () => {
    expect(() => parseBuildOptions(['--server', 'h.example'])).toThrow('--server "h.example" is not a URL.');
    expect(() => parseBuildOptions(['--server', 'ftp://h.example'])).toThrow(/must start with http/);
    expect(() => parseBuildOptions(['--server', 'https://h', '--pin', 'abc'])).toThrow(
      '--pin "abc" is not a key pin (expected sha256/ then 44 base64 characters).',
    );
    expect(() => parseBuildOptions(['--server', 'https://h', '--nope'])).toThrow(OptionError);
  });
});

describe('the Debian root', () => {
  it('asks mmdebstrap for the kernel, live-boot, the agent tools, disk tools and GRUB, without recommends', () => {
    const args = mmdebstrapArgs(spec, '/tmp/root');
    const include = args
      .find((a) => a.startsWith('--include='))!
      .slice('--include='.length)
      .split(',');
    for (const pkg of [
      'linux-image-amd64',
      'live-boot',
      'systemd-sysv',
      'pciutils',
      'wireguard-tools',
      'iproute2',
      'gdisk',
      'grub-pc-bin',
      'grub-efi-amd64-bin',
    ])
      expect(include).toContain(pkg);
    expect(args).toContain('--aptopt=APT::Install-Recommends "false"');
    expect(args.slice(-4)).toEqual([
      '/tmp/root',
      'deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm-updates main',
      'deb http://deb.debian.org/debian-security bookworm-security main',
    ]);
  });

  it('keys the cache by what mmdebstrap is given: same inputs, same key; another mirror, another key', () => {
    expect(rootCacheKey(spec)).toBe(rootCacheKey({ ...spec }));
    expect(rootCacheKey(spec)).not.toBe(rootCacheKey({ ...spec, mirror: 'http://mirror.example/debian' }));
    expect(PACKAGES.length).toBeGreaterThan(10);
  });
});

describe('host tools', () => {
  it('names the Debian package for each missing tool, once', async () => {
    const present = new Set<string>(REQUIRED_TOOLS.map((t) => t.path));
    present.delete('/usr/bin/xorriso');
    present.delete('/usr/lib/grub/x86_64-efi/moddep.lst');
    expect(await missingPackages(async (p) => present.has(p))).toEqual(['xorriso', 'grub-efi-amd64-bin']);
    expect(await missingPackages(async () => true)).toEqual([]);
  });
});

describe('/etc/homenode/config.json in the image', () => {
  it('holds the server and pin; join paths and fast intervals only in test images', () => {
    const pin = `sha256/${'A'.repeat(43)}=`;
    expect(imageConfig({ server: 'https://h.example', pin, testStandins: false })).toEqual({
      serverUrl: 'https://h.example',
      stateDir: '/var/lib/homenode',
      serverPin: pin,
    });
    const test = imageConfig({ server: 'http://10.0.2.2:8080', pin: undefined, testStandins: true });
    expect(test).toMatchObject({ paths: { k3sConfigPath: '/var/lib/homenode/test/k3s/config.yaml' } });
    expect(test).not.toHaveProperty('serverPin');
    expect(STANDIN_PATH.split(':')[0]).toBe('/opt/homenode/standins/bin-rtx4090');
    // The agent reads both as valid config files.
    expect(() => parseConfigFile('/etc/homenode/config.json', JSON.stringify(test))).not.toThrow();
    expect(() =>
      parseConfigFile(
        '/etc/homenode/config.json',
        JSON.stringify(imageConfig({ server: 'https://h', pin, testStandins: false })),
      ),
    ).not.toThrow();
  });
});
