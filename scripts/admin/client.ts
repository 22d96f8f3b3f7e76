/** A small HTTP client for the enroll-server API, used by the operator CLI. */

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
  };
}
