/**
 * The server's secret key: 32 random bytes in a file beside the database (mode 0600, made on
 * first start), or the file `HOMENODE_SECRET_FILE` names (replicas share one). It never enters the
 * database, so a copy of the database (a backup) cannot forge a mailed link, an unsubscribe link
 * or a sign-in state, nor read a webhook's signing secret. Each use gets its own key, derived with
 * HKDF-SHA256 under a label, so one use can never stand in for another.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const SECRET_BYTES = 32;

export type SecretPurpose = 'email-links' | 'unsubscribe' | 'webhook-secrets' | 'sign-in-state';

export class ServerSecretError extends Error {
  constructor(path: string, problem: string) {
    super(`The server's secret key file ${path} ${problem}`);
    this.name = 'ServerSecretError';
  }
}

/** Reads the key file, or creates it (exclusively, 0600) when it does not exist. */
export function loadServerSecret(path: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ServerSecretError(path, `cannot be read (${String(error)}). Check its owner and mode.`);
    }
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const secret = randomBytes(SECRET_BYTES);
    try {
      writeFileSync(path, `${secret.toString('base64url')}\n`, { flag: 'wx', mode: 0o600 });
      chmodSync(path, 0o600);
      return secret;
    } catch (raced) {
      // Another replica made it meanwhile: use theirs.
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      text = readFileSync(path, 'utf8');
    }
  }
  const secret = Buffer.from(text.trim(), 'base64url');
  if (secret.length !== SECRET_BYTES) {
    throw new ServerSecretError(
      path,
      `must hold ${SECRET_BYTES} random bytes in base64url (e.g. \`openssl rand 32 | basenc --base64url\`); it holds ${secret.length}.`,
    );
  }
  return secret;
}

/** The key for one purpose (HKDF-SHA256, 32 bytes). */
export function deriveKey(secret: Buffer, purpose: SecretPurpose): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), `homenode ${purpose} v1`, 32));
}

/** AES-256-GCM: `iv.ciphertext.tag`, base64url; `context` is bound as associated data. */
export function seal(key: Buffer, plaintext: string, context: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(context));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

/** The plaintext of `seal`, or undefined when the box was altered, made for another context or another key. */
export function unseal(key: Buffer, box: string, context: string): string | undefined {
  const [iv, body, tag] = box.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !body || !tag || iv.length !== 12 || tag.length !== 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
