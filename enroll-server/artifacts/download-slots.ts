/**
 * How many downloads one client (an address, or a node) may run at once: a stranger cannot open a
 * thousand ISO downloads. A slot is taken when the answer starts and given back when its
 * connection is done with it (finished, cut, or refused).
 */
import { RateLimitedError } from '../core/errors.js';

export class DownloadSlots {
  private readonly running = new Map<string, number>();

  constructor(private readonly perClient: number) {}

  /** Takes a slot for `client` or throws 429; call `release` exactly once when done. */
  take(client: string): () => void {
    const n = this.running.get(client) ?? 0;
    if (n >= this.perClient) {
      throw new RateLimitedError(
        `${this.perClient} downloads are already running from here; wait for one to finish and try again.`,
        30,
      );
    }
    this.running.set(client, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.running.get(client) ?? 1) - 1;
      if (left <= 0) this.running.delete(client);
      else this.running.set(client, left);
    };
  }

  get size(): number {
    return this.running.size;
  }
}
