/**
 * Which enroll-server URLs a node may be pointed at. Over `http://` the installation key, the
 * node's connection tokens and everything the server tells it (the cluster `join` included) cross
 * the network in clear, so plain http is allowed only to this very machine (loopback: 127.0.0.0/8,
 * ::1, localhost), or where the operator asked for it explicitly (a test network; the screens then
 * say so). Pure: the agent, `build:iso` and the server share it.
 */

export interface ServerUrlOptions {
  /** The operator's explicit "plain http is fine here" (`--allow-insecure-http`). */
  allowInsecureHttp?: boolean | undefined;
}

export type ServerUrlCheck =
  | {
      ok: true;
      /** The URL as given (trimmed). */
      url: string;
      /** True for http:// to another machine: allowed only by the flag, and shown as a warning. */
      insecure: boolean;
    }
  | { ok: false; problem: ServerUrlProblem; reason: string };

/** Why a URL was refused: `insecure-http` is the one an explicit flag can allow. */
export type ServerUrlProblem = 'not-a-url' | 'scheme' | 'credentials' | 'query' | 'insecure-http';

/** True for a URL hostname (as `new URL` writes it) that names this machine. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]') return true;
  const m = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return m !== null && m.slice(1).every((octet) => Number(octet) <= 255);
}

/** Check a server URL; a refusal says what is wrong and what to do, in words. */
export function checkServerUrl(text: string, options: ServerUrlOptions = {}): ServerUrlCheck {
  const url = text.trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return {
      ok: false,
      problem: 'not-a-url',
      reason: `The server URL "${url}" is not a URL (expected e.g. https://homenode.example.com).`,
    };
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    return {
      ok: false,
      problem: 'scheme',
      reason: `The server URL "${url}" must start with https:// (e.g. https://homenode.example.com).`,
    };
  }
  if (parsed.username || parsed.password) {
    return {
      ok: false,
      problem: 'credentials',
      reason: `The server URL "${url}" must not contain a user name or password.`,
    };
  }
  if (parsed.search || parsed.hash) {
    return {
      ok: false,
      problem: 'query',
      reason: `The server URL "${url}" must not have a query (?…) or a fragment (#…): give only the server's address.`,
    };
  }
  if (parsed.protocol === 'https:' || isLoopbackHost(parsed.hostname)) {
    return { ok: true, url, insecure: false };
  }
  if (options.allowInsecureHttp) return { ok: true, url, insecure: true };
  return {
    ok: false,
    problem: 'insecure-http',
    reason:
      `The server URL "${url}" uses plain http:// to another machine (${parsed.hostname}): the ` +
      'installation key and everything the server sends this node would cross the network ' +
      'unencrypted, readable and changeable on the way. Use https://, or allow insecure http ' +
      'explicitly, only on a test network you trust.',
  };
}
