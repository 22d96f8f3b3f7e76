/**
 * The server's own Ed25519 signing keys (the release key that signs artifacts; the same shape suits
 * the auditor key): a private JWK in a file of mode 0600, made on first start in the data folder or
 * given by the operator. A key file other users can read is refused, as ssh refuses one.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import {
  type CryptoKey,
  type JWK,
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';

export interface SigningKey {
  privateKey: CryptoKey;
  /** The public half, with `kid` (its RFC 7638 thumbprint), `alg` and `use`. */
  publicJwk: JWK & { kty: 'OKP'; crv: 'Ed25519'; x: string; kid: string; alg: 'EdDSA'; use: 'sig' };
  keyId: string;
}

export class SigningKeyError extends Error {
  override readonly name = 'SigningKeyError';
}

function isPrivateEd25519(
  value: unknown,
): value is JWK & { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string } {
  if (typeof value !== 'object' || value === null) return false;
  const jwk = value as Record<string, unknown>;
  return (
    jwk.kty === 'OKP' &&
    jwk.crv === 'Ed25519' &&
    typeof jwk.x === 'string' &&
    /^[A-Za-z0-9_-]{43}$/.test(jwk.x) &&
    typeof jwk.d === 'string' &&
    /^[A-Za-z0-9_-]{43}$/.test(jwk.d)
  );
}

/** Writes the new key with mode 0600: temp file, fsync, rename, fsync of the folder. */
async function writeKeyFile(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writeFile(text);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/**
 * The key in `path`; when the file does not exist and `create` is true, a new one is made there.
 * `what` names the key and the variable that sets its file, for the messages.
 */
export async function loadSigningKey(
  path: string,
  options: { create: boolean; what: string },
): Promise<SigningKey> {
  let text: string;
  try {
    const info = await stat(path);
    if ((info.mode & 0o077) !== 0) {
      throw new SigningKeyError(
        `${options.what} ${path} can be read by other users (mode ${(info.mode & 0o777).toString(8)}); ` +
          `run chmod 600 ${path} and start again.`,
      );
    }
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!options.create) throw new SigningKeyError(`${options.what} ${path} does not exist.`);
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    text = `${JSON.stringify(await exportJWK(privateKey))}\n`;
    await writeKeyFile(path, text);
  }
  let jwk: unknown;
  try {
    jwk = JSON.parse(text);
  } catch {
    throw new SigningKeyError(`${options.what} ${path} is not a JSON Web Key.`);
  }
  if (!isPrivateEd25519(jwk)) {
    throw new SigningKeyError(
      `${options.what} ${path} is not a private Ed25519 JSON Web Key ({"kty":"OKP","crv":"Ed25519","x":…,"d":…}).`,
    );
  }
  const privateKey = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, 'EdDSA');
  if (!('type' in privateKey)) throw new SigningKeyError(`${options.what} ${path} could not be imported.`);
  const keyId = await calculateJwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: jwk.x });
  return {
    privateKey,
    keyId,
    publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: keyId, alg: 'EdDSA', use: 'sig' },
  };
}
