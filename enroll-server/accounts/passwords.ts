/**
 * Password hashing for owners' dashboard sign-in: scrypt (node:crypto) with a per-user random salt,
 * stored as `scrypt$N$r$p$salt$hash` so the cost can be raised later (a sign-in rehashes a hash
 * made at a lower cost), compared in constant time.
 *
 * Scrypt runs on libuv's thread pool (4 threads by default), which node token checks (WebCrypto),
 * file I/O and DNS share: a flood of sign-ins must not starve them. So every hash goes through one
 * bounded gate per process (the pool is one per process): at most `concurrency` hashes run at
 * once, at most `queue` wait, and beyond that the caller is told to come back (503, Retry-After).
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { ServerBusyError } from '../core/errors.js';

const KEY_LENGTH = 32;
export interface ScryptCost {
  N: number;
  r: number;
  p: number;
}
/** OWASP's recommendation for scrypt: N = 2^17, r = 8, p = 1 (128 MiB per hash). */
export const SCRYPT_COST: ScryptCost = { N: 2 ** 17, r: 8, p: 1 };
export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 200;

export interface PasswordGateOptions {
  /** Hashes running at once (each holds one thread of libuv's pool and 128 MiB). */
  concurrency: number;
  /** Hashes waiting for a turn; one more is refused at once. */
  queue: number;
}
export const DEFAULT_PASSWORD_GATE: PasswordGateOptions = { concurrency: 2, queue: 16 };

// scrypt needs 128 × N × r bytes; Node refuses anything above `maxmem` (default 32 MiB).
const maxmemFor = (cost: ScryptCost) => 2 * 128 * cost.N * cost.r * cost.p;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFKC'),
      salt,
      KEY_LENGTH,
      { ...cost, maxmem: maxmemFor(cost) },
      (error, key) => (error ? reject(error) : resolve(key)),
    );
  });
}

function parse(stored: string): { cost: ScryptCost; salt: Buffer; hash: Buffer } | undefined {
  const [scheme, n, r, p, salt, hash, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || rest.length > 0) return undefined;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  // A stored cost is ours, but never let a corrupt row ask for gigabytes.
  if (![cost.N, cost.r, cost.p].every(Number.isSafeInteger) || cost.N > 2 ** 20 || cost.r > 32 || cost.p > 4)
    return undefined;
  return { cost, salt: Buffer.from(salt, 'base64url'), hash: Buffer.from(hash, 'base64url') };
}

export class PasswordHasher {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Recent time one hash takes, for Retry-After. */
  private averageMs = 300;

  constructor(
    private readonly gate: PasswordGateOptions = DEFAULT_PASSWORD_GATE,
    readonly cost: ScryptCost = SCRYPT_COST,
  ) {}

  /** Hashes running and waiting now. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(16);
    const key = await this.gated(() => derive(password, salt, this.cost));
    const { N, r, p } = this.cost;
    return ['scrypt', N, r, p, salt.toString('base64url'), key.toString('base64url')].join('$');
  }

  async verify(stored: string, password: string): Promise<boolean> {
    const parsed = parse(stored);
    if (!parsed) return false;
    const actual = await this.gated(() => derive(password, parsed.salt, parsed.cost));
    return parsed.hash.length === actual.length && timingSafeEqual(parsed.hash, actual);
  }

  /** True when the hash was made at another cost than today's (rehash it after a sign-in). */
  needsRehash(stored: string): boolean {
    const parsed = parse(stored);
    return (
      !parsed ||
      parsed.cost.N !== this.cost.N ||
      parsed.cost.r !== this.cost.r ||
      parsed.cost.p !== this.cost.p
    );
  }

  private async gated<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.gate.concurrency) {
      if (this.waiting.length >= this.gate.queue) {
        const seconds = Math.max(
          1,
          Math.ceil(((this.waiting.length + this.running) * this.averageMs) / this.gate.concurrency / 1000),
        );
        throw new ServerBusyError(
          `The server is busy checking other passwords. Try again in ${seconds} seconds.`,
          seconds,
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running += 1;
    }
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.averageMs = 0.8 * this.averageMs + 0.2 * (performance.now() - started);
      // Hand the slot straight to the next waiter (it is counted as running already).
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }
}

/** The one gate of this process (libuv's thread pool is one per process). */
export const passwords = new PasswordHasher();

export const hashPassword = (password: string): Promise<string> => passwords.hash(password);
export const verifyPassword = (stored: string, password: string): Promise<boolean> =>
  passwords.verify(stored, password);

/** A hash of nothing anyone knows: verified against when the email is unknown, so timing says nothing. */
export const DUMMY_PASSWORD_HASH = `scrypt$${SCRYPT_COST.N}$${SCRYPT_COST.r}$${SCRYPT_COST.p}$${randomBytes(16).toString('base64url')}$${randomBytes(KEY_LENGTH).toString('base64url')}`;
