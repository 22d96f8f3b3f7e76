/**
 * The dashboard's HTTP client: same-origin JSON with the session cookie, and the session's CSRF
 * token on every request that changes something. Errors carry the server's code and message.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

let csrfToken: string | null = null;
let onUnauthenticated: () => void = () => undefined;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function onSignedOut(listener: () => void): void {
  onUnauthenticated = listener;
}

interface ErrorBody {
  error?: { code?: string; message?: string; details?: unknown };
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const error = (parsed as ErrorBody | undefined)?.error;
    const message = error?.message ?? `The server answered ${res.status}.`;
    if (res.status === 401 && !path.startsWith('/v1/session')) onUnauthenticated();
    const retry = res.headers.get('retry-after');
    throw new ApiError(
      res.status,
      error?.code ?? 'HTTP_' + res.status,
      retry && res.status === 429 ? `${message}` : message,
      error?.details,
    );
  }
  return parsed as T;
}

/** GET that treats "this route does not exist yet" (404 without a resource) as `undefined`. */
export async function apiOptional<T>(path: string): Promise<T | undefined> {
  try {
    return await api<T>('GET', path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return undefined;
    throw error;
  }
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return `Something went wrong: ${error.message}`;
  return 'Something went wrong.';
}
