/**
 * The release key an image carries (build:iso, docs/node-software.md): taken from the real server
 * (`GET /v1/release-key`) or from the file `npm run admin -- release-key` saves, written into
 * `/etc/homenode/config.json` as the agent reads it, public fields only; and it verifies what that
 * server signs, with the agent's own check. A build that cannot get the key says how to give it.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { checkSignature } from '../../agent/artifacts/fetch-artifact.js';
import { parseConfigFile } from '../../agent/cli/config.js';
import { EMBEDDED_K3S_PATH } from '../../agent/cli/daemon-config.js';
import { imageConfig } from '../../iso-builder/image-config.js';
import { embedK3s, resolveReleaseKey } from '../../iso-builder/node-software.js';
import { parseBuildOptions } from '../../iso-builder/options.js';
import { type TestServer, startTestServer } from '../helpers/server.js';
import { randomFile, sha256, upload } from './artifact-support.js';

let servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers) await s.close();
  servers = [];
});

const temp = () => mkdtempSync(join(tmpdir(), 'homenode-iso-key-'));

describe('the release key in the image', () => {
  it("comes from the server, lands in the image's config, and verifies what the server signs", async () => {
    const server = await startTestServer();
    servers.push(server);
    const notes: string[] = [];
    const key = await resolveReleaseKey(
      { server: server.url, releaseKeyFile: undefined, testStandins: false },
      (l) => notes.push(l),
    );
    expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(notes).toEqual([]);

    const o = { server: 'https://h.example', pin: undefined, testStandins: false, allowInsecureHttp: false };
    const text = JSON.stringify(imageConfig(o, key));
    const config = parseConfigFile('/etc/homenode/config.json', text);
    expect(config).toMatchObject({ releaseKey: key });

    const bytes = randomFile(4096);
    const signed = await upload(server, 'k3s', 'v1.31.4+k3s1', bytes);
    expect(signed.status).toBe(201);
    const claims = { name: 'k3s', version: 'v1.31.4+k3s1', sha256: sha256(bytes), size: bytes.length };
    const deps = {
      releaseKey: key,
      serverUrl: server.url,
      nodeToken: () => Promise.resolve(''),
      downloadDir: temp(),
    };
    await expect(checkSignature(claims, String(signed.body.signature), deps)).resolves.toBeUndefined();
    // The same signature over another SHA-256 does not verify.
    await expect(
      checkSignature({ ...claims, sha256: sha256(randomFile(10)) }, String(signed.body.signature), deps),
    ).rejects.toThrow(/k3s v1\.31\.4\+k3s1 was refused and nothing was downloaded or installed/);
  });

  it('takes a saved file and keeps only the public part of what it holds', async () => {
    const dir = temp();
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const jwk = await exportJWK(privateKey);
    const file = join(dir, 'release-key.json');
    writeFileSync(file, JSON.stringify({ publicKey: { ...jwk, kid: 'k1' } }));
    const key = await resolveReleaseKey(
      { server: 'https://unused.example', releaseKeyFile: file, testStandins: false },
      () => {},
    );
    expect(key).toEqual({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: 'k1', alg: 'EdDSA' });

    writeFileSync(file, JSON.stringify({ kty: 'RSA', n: 'x', e: 'AQAB' }));
    await expect(
      resolveReleaseKey(
        { server: 'https://unused.example', releaseKeyFile: file, testStandins: false },
        () => {},
      ),
    ).rejects.toThrow(`--release-key ${file} does not hold an Ed25519 public key`);
  });

  it('without a reachable server: a production build stops and says how to give the key; a test image warns', async () => {
    // A port nothing listens on (a server that was closed).
    const server = await startTestServer();
    const url = server.url;
    await server.close();
    await expect(
      resolveReleaseKey({ server: url, releaseKeyFile: undefined, testStandins: false }, () => {}),
    ).rejects.toThrow(/could not be fetched from .*--release-key release-key\.json/);
    const notes: string[] = [];
    await expect(
      resolveReleaseKey({ server: url, releaseKeyFile: undefined, testStandins: true }, (l) => notes.push(l)),
    ).resolves.toBeUndefined();
    expect(notes[0]).toMatch(/^warning: no release key .*refuses every artifact/);
  });

  it('embeds a k3s binary with --k3s at the path the agent looks for', async () => {
    expect(
      parseBuildOptions(['--server', 'https://h.example', '--k3s', 'k3s', '--release-key', 'key.json']),
    ).toMatchObject({ k3s: 'k3s', releaseKeyFile: 'key.json' });
    const dir = temp();
    const source = join(dir, 'k3s');
    const bytes = randomFile(2048);
    writeFileSync(source, bytes);
    const root = join(dir, 'root');
    await expect(embedK3s(root, source)).resolves.toBe(sha256(bytes));
    const target = join(root, EMBEDDED_K3S_PATH);
    expect(readFileSync(target).equals(bytes)).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o755);
    await expect(embedK3s(root, join(dir, 'missing'))).rejects.toThrow(
      /--k3s .*missing cannot be read: ENOENT/,
    );
  });
});
