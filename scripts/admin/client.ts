/** A small HTTP client for the enroll-server API, used by the operator CLI. */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ApiClient {
  request<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** A binary download (e.g. a backup). */
  download(path: string): Promise<Buffer>;
  /** A text answer (e.g. a WireGuard config). */
  text(path: string): Promise<string>;
  /** POSTs a file as the raw body (streamed from disk, never read whole), answering JSON. */
  upload<T>(path: string, file: string): Promise<T>;
}

function apiError(status: number, text: string): ApiError {
  let body: { error?: { code?: string; message?: string; details?: unknown } } | undefined;
  try {
    body = text ? (JSON.parse(text) as typeof body) : undefined;
  } catch {
    body = undefined;
  }
  return new ApiError(
    status,
    body?.error?.code ?? `HTTP_${status}`,
    body?.error?.message ?? `HTTP ${status}`,
    body?.error?.details,
  );
}

export function createApiClient(
  baseUrl: string,
  token: string | undefined,
  fetchImpl: typeof fetch = fetch,
): ApiClient {
  const base = baseUrl.replace(/\/+$/, '');
  return {
    async request<T>(method: string, path: string, body?: unknown): Promise<T> {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await fetchImpl(base + path, {
          method,
          headers,
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
        });
      } catch (cause) {
        throw new Error(
          `Cannot reach the enroll-server at ${base}. Is it running, and is HOMENODE_URL right?`,
          { cause },
        );
      }
      const text = await res.text();
      let parsed: unknown;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      if (!res.ok) {
        const error = (
          parsed as { error?: { code?: string; message?: string; details?: unknown } } | undefined
        )?.error;
        throw new ApiError(
          res.status,
          error?.code ?? `HTTP_${res.status}`,
          error?.message ?? `HTTP ${res.status}`,
          error?.details,
        );
      }
      return parsed as T;
    },
    async download(path: string): Promise<Buffer> {
      const res = await fetchImpl(base + path, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
        signal: AbortSignal.timeout(600_000),
      });
      if (!res.ok) {
        const body = (await res.json().catch(() => undefined)) as
          { error?: { code?: string; message?: string } } | undefined;
        throw new ApiError(
          res.status,
          body?.error?.code ?? `HTTP_${res.status}`,
          body?.error?.message ?? `HTTP ${res.status}`,
        );
      }
      return Buffer.from(await res.arrayBuffer());
    },
    async text(path: string): Promise<string> {
      let res: Response;
      try {
        res = await fetchImpl(base + path, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          signal: AbortSignal.timeout(30_000),
        });
      } catch (cause) {
        throw new Error(
          `Cannot reach the enroll-server at ${base}. Is it running, and is HOMENODE_URL right?`,
          {
            cause,
          },
        );
      }
      const text = await res.text();
      if (!res.ok) throw apiError(res.status, text);
      return text;
    },
    async upload<T>(path: string, file: string): Promise<T> {
      const size = (await stat(file)).size;
      const url = new URL(base + path);
      const transport = url.protocol === 'https:' ? https : http;
      return new Promise<T>((resolve, reject) => {
        const req = transport.request(url, {
          method: 'POST',
          headers: {
            accept: 'application/json',
            'content-type': 'application/octet-stream',
            'content-length': String(size),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
        });
        req.on('error', (cause) =>
          reject(new Error(`Uploading ${file} to ${base} failed: ${cause.message}`, { cause })),
        );
        req.on('response', (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => {
            if ((res.statusCode ?? 0) >= 400) return reject(apiError(res.statusCode ?? 0, text));
            try {
              resolve(JSON.parse(text) as T);
            } catch {
              reject(
                new Error(
                  `The server answered the upload with something that is not JSON: ${text.slice(0, 200)}`,
                ),
              );
            }
          });
        });
        createReadStream(file).on('error', reject).pipe(req);
      });
    },
  };
}
