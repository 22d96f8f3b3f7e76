/**
 * A resumable download into a `.part` file: what arrived stays on disk, and the next attempt asks
 * for the rest with `Range` and `If-Range` (the SHA-256 is the server's ETag, so a different file
 * is sent whole instead of a part that would not fit). Network errors and 5xx answers are retried
 * a few times with a short doubling pause; other refusals (401, 403, 404) are not. More bytes than
 * the join announced are never written.
 */
import http from 'node:http';
import https from 'node:https';
import { open, rm, stat, truncate } from 'node:fs/promises';
import { NetworkError, describeNetworkError, pinChecker } from '../net/http-request.js';

export interface DownloadRequest {
  url: URL;
  /** Bytes the join announced. */
  size: number;
  sha256: string;
  partPath: string;
  /** Headers for each attempt (a fresh single-use node token, when the URL is the server's). */
  headers: () => Promise<Record<string, string>>;
  /** The server's key pin, for https URLs on the server's own origin. */
  serverPin?: string | undefined;
  /** `start` before each request (with the bytes already on disk), `data` as bytes arrive. */
  onProgress?: (received: number, size: number, event: 'start' | 'data') => void;
  attempts?: number;
  /** Pause between attempts (tests pass a short one). */
  retryDelayMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** The server refused the download (not worth retrying at once): status and its message. */
export class DownloadRefusedError extends Error {
  override readonly name = 'DownloadRefusedError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ERROR_BODY_BYTES = 16 * 1024;

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function refusal(status: number, body: string): DownloadRefusedError {
  let message = `the server answered ${status}`;
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') message += `: ${parsed.error.message}`;
  } catch {
    // not JSON: the status says enough
  }
  return new DownloadRefusedError(status, message);
}

/** One request; resolves when the part file holds `size` bytes, or throws. */
async function attempt(req: DownloadRequest, have: number): Promise<void> {
  const headers: Record<string, string> = { accept: 'application/octet-stream', ...(await req.headers()) };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    headers['if-range'] = `"${req.sha256}"`;
  }
  const transport = req.url.protocol === 'https:' ? https : http;
  await new Promise<void>((resolve, reject) => {
    const request = transport.request(req.url, {
      method: 'GET',
      headers,
      agent: false,
      timeout: req.timeoutMs ?? 30_000,
      ...(req.serverPin && req.url.protocol === 'https:'
        ? { checkServerIdentity: pinChecker(req.serverPin) }
        : {}),
    });
    request.on('timeout', () =>
      request.destroy(new NetworkError('the server did not send anything for 30 s', 'ETIMEDOUT')),
    );
    request.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        error instanceof NetworkError || error instanceof DownloadRefusedError
          ? error
          : new NetworkError(describeNetworkError(error.code ?? '', error.message), error.code ?? 'ENETWORK'),
      ),
    );
    request.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200 && status !== 206) {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < ERROR_BODY_BYTES) body += chunk;
        });
        res.on('end', () =>
          reject(
            status >= 500
              ? new NetworkError(refusal(status, body).message, `HTTP_${status}`)
              : refusal(status, body),
          ),
        );
        res.on('error', () => reject(refusal(status, body)));
        return;
      }
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers['content-range'] ?? '');
      const start = status === 206 ? Number(range?.[1] ?? -1) : 0;
      if (status === 206 && start !== have) {
        res.destroy();
        return reject(new NetworkError(`the server resumed at byte ${start}, not ${have}`, 'EBADRANGE'));
      }
      void receive(res, start, req).then(resolve, (error: unknown) => {
        request.destroy();
        reject(
          error instanceof DownloadRefusedError || error instanceof NetworkError
            ? error
            : new NetworkError('the connection was cut during the download', 'ECUT'),
        );
      });
    });
    request.end();
  });
}

/** Writes the body at `start` (appending, or from the beginning for a whole answer). */
async function receive(res: http.IncomingMessage, start: number, req: DownloadRequest): Promise<void> {
  const file = await open(req.partPath, start === 0 ? 'w' : 'a', 0o600);
  let received = start;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      if (received + chunk.length > req.size) {
        throw new DownloadRefusedError(0, `the server sent more than the ${req.size} bytes announced`);
      }
      await file.write(chunk);
      received += chunk.length;
      req.onProgress?.(received, req.size, 'data');
    }
    await file.sync();
  } finally {
    await file.close();
  }
  if (received !== req.size) {
    throw new NetworkError(`the download stopped after ${received} of ${req.size} bytes`, 'ECUT');
  }
}

/**
 * Downloads `req.url` into `req.partPath` until it holds `req.size` bytes, resuming after a cut.
 * Throws `DownloadRefusedError` for a refusal, or the last `NetworkError` when attempts run out.
 */
export async function downloadResumable(req: DownloadRequest): Promise<void> {
  const attempts = req.attempts ?? 5;
  const sleep = req.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last: unknown;
  for (let i = 0; i < attempts; i += 1) {
    let have = await sizeOf(req.partPath);
    if (have > req.size) {
      await truncate(req.partPath, 0);
      have = 0;
    }
    if (have === req.size) return;
    req.onProgress?.(have, req.size, 'start');
    try {
      await attempt(req, have);
      return;
    } catch (error) {
      if (error instanceof DownloadRefusedError && error.status === 416) {
        // What is on disk does not belong to this file: start again from nothing.
        await rm(req.partPath, { force: true });
      } else if (error instanceof DownloadRefusedError) {
        throw error;
      }
      last = error;
      if (i + 1 < attempts) await sleep((req.retryDelayMs ?? 1000) * 2 ** i);
    }
  }
  throw last instanceof Error ? last : new Error(String(last));
}
