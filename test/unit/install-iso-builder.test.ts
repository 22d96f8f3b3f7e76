import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigFile } from '../../agent/cli/config.js';
import { imageConfig, STANDIN_PATH } from '../../iso-builder/image-config.js';
import { OptionError, parseBuildOptions } from '../../iso-builder/options.js';
import { isLoopbackHost } from '../../iso-builder/options.js';
import { mmdebstrapArgs, NVIDIA_HOOK, PACKAGES, rootCacheKey } from '../../iso-builder/packages.js';
import { missingPackages, REQUIRED_TOOLS } from '../../iso-builder/tools.js';

const spec = {
  suite: 'bookworm',
  mirror: 'http://deb.debian.org/debian',
  securityMirror: 'http://deb.debian.org/debian-security',
};

describe('build:iso options', () => {
  it('needs --server and defaults the output, cache and mirrors', () => {
    expect(() => parseBuildOptions([])).toThrow(/--server URL is required/);
    expect(parseBuildOptions(['--server', 'https://10.0.2.2:8080'])).toMatchObject({
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

  it('refuses plain http:// to another machine unless --allow-insecure-http is given, and records it', () => {
    expect(() => parseBuildOptions(['--server', 'http://10.0.2.2:8080'])).toThrow(
      /--server "http:\/\/10\.0\.2\.2:8080" uses plain http:\/\/ .* add --allow-insecure-http/,
    );
    const insecure = parseBuildOptions(['--server', 'http://10.0.2.2:8080', '--allow-insecure-http']);
    expect(insecure).toMatchObject({ allowInsecureHttp: true });
    expect(imageConfig(insecure as Exclude<typeof insecure, 'help'>)).toMatchObject({
      allowInsecureHttp: true,
    });
    // Loopback never leaves the machine; https never needs the flag.
    for (const server of [
      'http://127.0.0.1:8080',
      'http://localhost:8080',
      'http://[::1]:8080',
      'https://h.example',
    ])
      expect(parseBuildOptions(['--server', server])).toMatchObject({ allowInsecureHttp: false });
    expect(isLoopbackHost('127.10.0.1')).toBe(true);
    expect(isLoopbackHost('127.example.com')).toBe(false);
    expect(isLoopbackHost('10.0.2.2')).toBe(false);
  });
});

describe('the Debian root', () => {
  it('asks mmdebstrap for the kernel, live-boot, the agent tools, the NVIDIA driver, the audit tools, disk tools and GRUB, without recommends', () => {
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
      'nvidia-smi',
      'nvidia-kernel-support',
      'firmware-nvidia-gsp',
      'libcuda1',
      'fio',
      'sysbench',
    ])
      expect(include).toContain(pkg);
    // No compiler, headers or DKMS in the image: the module is built in a throw-away copy by the hook.
    for (const pkg of ['nvidia-kernel-dkms', 'dkms', 'gcc', 'linux-headers-amd64', 'nvidia-driver'])
      expect(include).not.toContain(pkg);
    expect(args).toContain(`--customize-hook=sh ${NVIDIA_HOOK} "$1"`);
    // The module hook runs while the apt lists are still there.
    expect(args.findIndex((a) => a.includes(NVIDIA_HOOK))).toBeLessThan(
      args.findIndex((a) => a.includes('var/lib/apt/lists')),
    );
    expect(args).toContain('--aptopt=APT::Install-Recommends "false"');
    expect(args.slice(-4)).toEqual([
      '/tmp/root',
      'deb http://deb.debian.org/debian bookworm main contrib non-free non-free-firmware',
      'deb http://deb.debian.org/debian bookworm-updates main contrib non-free non-free-firmware',
      'deb http://deb.debian.org/debian-security bookworm-security main contrib non-free non-free-firmware',
    ]);
  });

  it('keys the cache by what mmdebstrap is given and by the hook text, not by where the clone is', () => {
    const hook = '#!/bin/sh\necho build\n';
    expect(rootCacheKey(spec, hook)).toBe(rootCacheKey({ ...spec }, hook));
    expect(rootCacheKey(spec, hook)).not.toBe(
      rootCacheKey({ ...spec, mirror: 'http://mirror.example/debian' }, hook),
    );
    expect(rootCacheKey(spec, hook)).not.toBe(rootCacheKey(spec, `${hook}# changed\n`));
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
    expect(
      imageConfig({ server: 'https://h.example', pin, testStandins: false, allowInsecureHttp: false }),
    ).toEqual({
      serverUrl: 'https://h.example',
      stateDir: '/var/lib/homenode',
      serverPin: pin,
    });
    const test = imageConfig({
      server: 'http://10.0.2.2:8080',
      pin: undefined,
      testStandins: true,
      allowInsecureHttp: true,
    });
    expect(test).toMatchObject({ paths: { k3sConfigPath: '/var/lib/homenode/test/k3s/config.yaml' } });
    // The test image's join installs the k3s stand-in the overlay copies (test/fixtures/agent/bin-cluster).
    expect(test).toMatchObject({
      paths: {
        embeddedK3s: '/opt/homenode/standins/bin-cluster/k3s',
        k3sBinary: '/var/lib/homenode/test/k3s/k3s',
      },
    });
    expect(existsSync(join(import.meta.dirname, '../fixtures/agent/bin-cluster/k3s'))).toBe(true);
    // With --k3s the image's own k3s is the embedded one, and a release key goes in as given.
    const key = { kty: 'OKP' as const, crv: 'Ed25519' as const, x: 'A'.repeat(43), alg: 'EdDSA' as const };
    const withK3s = imageConfig(
      { server: 'https://h', pin: undefined, testStandins: true, allowInsecureHttp: false, k3s: 'k3s' },
      key,
    );
    expect(withK3s).toMatchObject({ releaseKey: key });
    expect(withK3s).not.toHaveProperty('paths.embeddedK3s');
    expect(test).not.toHaveProperty('serverPin');
    expect(STANDIN_PATH.split(':')[0]).toBe('/opt/homenode/standins/bin-rtx4090');
    // The agent reads both as valid config files.
    expect(() => parseConfigFile('/etc/homenode/config.json', JSON.stringify(test))).not.toThrow();
    expect(() =>
      parseConfigFile(
        '/etc/homenode/config.json',
        JSON.stringify(
          imageConfig({ server: 'https://h', pin, testStandins: false, allowInsecureHttp: false }),
        ),
      ),
    ).not.toThrow();
  });
});
