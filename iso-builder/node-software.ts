/**
 * What the image carries for the software a join installs (docs/node-software.md): the server's
 * release key (the agent refuses every artifact whose signature does not verify with it), from
 * `--release-key FILE` or fetched from `--server`; and, with `--k3s FILE`, a k3s binary embedded at
 * `/opt/homenode/k3s/k3s` for sites without a release server (the agent uses it when its SHA-256 is
 * the one the join names, or when the join names none).
 */
import { chmod, copyFile, mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Compile } from 'typebox/compile';
import { EMBEDDED_K3S_PATH } from '../agent/cli/daemon-config.js';
import { type ReleaseKey, ReleaseKeySchema } from '../protocol/artifacts.js';
import { sha256File } from './manifest.js';
import { OptionError } from './options.js';

const checkKey = Compile(ReleaseKeySchema);
const reason = (error: unknown) =>
  error instanceof Error && 'code' in error && typeof error.code === 'string' ? error.code : String(error);

export interface ImageSoftware {
  /** Undefined only for test images built while their server is not running. */
  releaseKey: ReleaseKey | undefined;
  /** The embedded k3s's SHA-256, when `--k3s` was given. */
  k3sSha256: string | undefined;
}

/** The key's public fields only, whatever else the file or the server sent. */
function publicKey(value: unknown, from: string): ReleaseKey {
  const jwk = typeof value === 'object' && value !== null && 'publicKey' in value ? value.publicKey : value;
  if (!checkKey.Check(jwk)) {
    throw new OptionError(
      `${from} does not hold an Ed25519 public key (a JWK with kty "OKP", crv "Ed25519" and x, as ` +
        '`npm run admin -- release-key` prints it).',
    );
  }
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.kid ? { kid: jwk.kid } : {}), alg: 'EdDSA' };
}

async function keyFromFile(file: string): Promise<ReleaseKey> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new OptionError(`--release-key ${file} cannot be read: ${reason(error)}.`);
  }
  try {
    return publicKey(JSON.parse(text), `--release-key ${file}`);
  } catch (error) {
    if (error instanceof OptionError) throw error;
    throw new OptionError(`--release-key ${file} is not JSON.`);
  }
}

async function keyFromServer(server: string, fetchImpl: typeof fetch): Promise<ReleaseKey> {
  const url = new URL('/v1/release-key', server).toString();
  const res = await fetchImpl(url, { signal: AbortSignal.timeout(15_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return publicKey(await res.json(), url);
}

/**
 * The release key for the image: the file's, else the server's. A production image without one
 * would refuse every k3s the server offers, so that is an error; a test image (`--test-standins`)
 * is built before its server runs and goes without, with a warning.
 */
export async function resolveReleaseKey(
  o: { server: string; releaseKeyFile: string | undefined; testStandins: boolean },
  note: (line: string) => void,
  fetchImpl: typeof fetch = fetch,
): Promise<ReleaseKey | undefined> {
  if (o.releaseKeyFile) return keyFromFile(o.releaseKeyFile);
  try {
    return await keyFromServer(o.server, fetchImpl);
  } catch (error) {
    if (error instanceof OptionError) throw error;
    const why = error instanceof Error ? error.message : String(error);
    if (o.testStandins) {
      note(`warning: no release key (${why}): this test image refuses every artifact a join names.`);
      return undefined;
    }
    throw new OptionError(
      `The release key could not be fetched from ${o.server} (${why}). Nodes need it to check the k3s ` +
        'they download. Save it where the server is reachable (npm run admin -- release-key > ' +
        'release-key.json) and build with --release-key release-key.json.',
    );
  }
}

/** The SHA-256 of `--k3s FILE` (part of the inputs digest), or an error naming the option. */
export async function k3sFileSha256(file: string): Promise<string> {
  try {
    return await sha256File(file);
  } catch (error) {
    throw new OptionError(`--k3s ${file} cannot be read: ${reason(error)}.`);
  }
}

/** Copies `--k3s FILE` into the image at the embedded path (0755); returns its SHA-256. */
export async function embedK3s(root: string, file: string): Promise<string> {
  const target = join(root, EMBEDDED_K3S_PATH);
  await mkdir(dirname(target), { recursive: true });
  try {
    await copyFile(file, target);
  } catch (error) {
    throw new OptionError(`--k3s ${file} cannot be read: ${reason(error)}.`);
  }
  await chmod(target, 0o755);
  return sha256File(target);
}
