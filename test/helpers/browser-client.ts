/**
 * A browser-like HTTP client for one person: keeps the cookies the server sets (per host), sends
 * the session's CSRF token on changes as the dashboard does, and can follow redirects by hand.
 */
export interface ClientResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface BrowserClient {
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    options?: { csrf?: boolean },
  ): Promise<ClientResponse<T>>;
  /** GET an absolute URL without following redirects, keeping cookies for its host. */
  get(url: string, init?: { method?: string; form?: Record<string, string> }): Promise<Response>;
  cookie(name: string, host?: string): string | undefined;
}

export function browserClient(baseUrl: string): BrowserClient {
  const jars = new Map<string, Map<string, string>>();
  let csrf = '';
  const jar = (host: string) => {
    let found = jars.get(host);
    if (!found) jars.set(host, (found = new Map<string, string>()));
    return found;
  };
  const keep = (url: URL, res: Response) => {
    for (const line of res.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(line) || value === '') jar(url.hostname).delete(name);
      else jar(url.hostname).set(name, value);
    }
  };
  const cookieHeader = (url: URL) => [...jar(url.hostname)].map(([k, v]) => `${k}=${v}`).join('; ');

  return {
    async call(method, path, body, options = {}) {
      const url = new URL(path, baseUrl);
      const headers: Record<string, string> = {};
      const cookies = cookieHeader(url);
      if (cookies) headers.cookie = cookies;
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (options.csrf !== false && csrf && method !== 'GET') headers['x-csrf-token'] = csrf;
      const res = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'manual',
      });
      keep(url, res);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      if (
        parsed &&
        typeof parsed === 'object' &&
        'csrfToken' in parsed &&
        typeof parsed.csrfToken === 'string'
      )
        csrf = parsed.csrfToken;
      return { status: res.status, headers: res.headers, body: parsed as never };
    },
    async get(target, init = {}) {
      const url = new URL(target, baseUrl);
      const headers: Record<string, string> = {};
      const cookies = cookieHeader(url);
      if (cookies) headers.cookie = cookies;
      let body: string | undefined;
      if (init.form) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        body = new URLSearchParams(init.form).toString();
      }
      const res = await fetch(url, {
        method: init.method ?? (body ? 'POST' : 'GET'),
        headers,
        body,
        redirect: 'manual',
      });
      keep(url, res);
      return res;
    },
    cookie: (name, host = new URL(baseUrl).hostname) => jar(host).get(name),
  };
}
