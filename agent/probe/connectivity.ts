/**
 * Reaching the server before enrolling: DNS, one HTTP request to `GET /v1/policy`, the server's
 * clock and captive-portal detection. `classifyPolicyAnswer` is pure; `probeServer` does the I/O.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Type } from 'typebox';
import { Compile } from 'typebox/compile';
import type { ConnectivityFacts } from '../../protocol/hardware.js';
import type { Policy } from '../../protocol/policy.js';
import { readPolicy } from '../control/server-frames.js';
import { NetworkError, type HttpClient, type HttpResponse } from '../net/http-request.js';

const PolicyAnswer = Compile(
  Type.Object({ policy: Type.Record(Type.String(), Type.Unknown()), serverTime: Type.String() }),
);

export interface ServerProbe {
  connectivity: ConnectivityFacts;
  /** The server's policy; undefined when it could not be fetched (the caller uses the defaults). */
  policy: Policy | undefined;
}

export type ResolveHost = (host: string) => Promise<void>;

export const resolveHost: ResolveHost = async (host) => {
  await lookup(host);
};

/** Keep only the fields this agent knows, so a newer server's extra fields do not break validation. */
export function parsePolicy(value: Record<string, unknown>): Policy | undefined {
  return readPolicy(value);
}

/** Server clock minus ours, in seconds, measured against the middle of the request. */
export function clockSkewSeconds(serverTimeMs: number, sentAtMs: number, receivedAtMs: number): number {
  return Math.round((serverTimeMs - (sentAtMs + receivedAtMs) / 2) / 100) / 10;
}

function pageTitle(html: string): string | undefined {
  const title = /<title[^>]*>([^<]{1,200})<\/title>/i.exec(html)?.[1]?.trim();
  return title || undefined;
}

type Classified =
  | { kind: 'policy'; policy: Policy; serverTimeMs: number | undefined }
  | { kind: 'portal'; location: string | undefined }
  | { kind: 'error'; message: string };

/** What an answer to `GET /v1/policy` tells: our server, a sign-in page in the way, or an error. */
export function classifyPolicyAnswer(response: HttpResponse, serverUrl: string): Classified {
  const { status, headers, text } = response;
  if (status >= 300 && status < 400) {
    const location = headers.location ? new URL(headers.location, serverUrl).href : undefined;
    return { kind: 'portal', location };
  }
  const isJson = (headers['content-type'] ?? '').includes('json');
  if (status === 200 && !isJson) return { kind: 'portal', location: pageTitle(text) };
  if (status !== 200) return { kind: 'error', message: `The server answered HTTP ${status}.` };
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { kind: 'portal', location: undefined };
  }
  if (!PolicyAnswer.Check(body)) return { kind: 'portal', location: undefined };
  const policy = parsePolicy(body.policy);
  if (!policy) return { kind: 'error', message: 'The server sent a policy this agent cannot read.' };
  const fromBody = Date.parse(body.serverTime);
  const fromHeader = headers.date ? Date.parse(headers.date) : Number.NaN;
  const serverTimeMs = Number.isFinite(fromBody)
    ? fromBody
    : Number.isFinite(fromHeader)
      ? fromHeader
      : undefined;
  return { kind: 'policy', policy, serverTimeMs };
}

export interface ProbeServerDeps {
  http: HttpClient;
  resolve: ResolveHost;
  now: () => number;
}

export async function probeServer(serverUrl: string, deps: ProbeServerDeps): Promise<ServerProbe> {
  const base: ConnectivityFacts = {
    serverUrl,
    dnsOk: false,
    reachable: false,
    captivePortal: false,
    clockSkewSeconds: null,
  };
  const host = new URL(serverUrl).hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host)) {
    try {
      await deps.resolve(host);
    } catch (error) {
      const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown error';
      return { connectivity: { ...base, error: `DNS lookup failed (${code}).` }, policy: undefined };
    }
  }
  const dnsOk = { ...base, dnsOk: true };
  const sentAt = deps.now();
  let response: HttpResponse;
  try {
    response = await deps.http({
      method: 'GET',
      url: new URL('v1/policy', withSlash(serverUrl)).href,
      timeoutMs: 10_000,
    });
  } catch (error) {
    const message = error instanceof NetworkError ? `${capitalise(error.message)}.` : String(error);
    return { connectivity: { ...dnsOk, error: message }, policy: undefined };
  }
  const receivedAt = deps.now();
  const answer = classifyPolicyAnswer(response, serverUrl);
  const reached = { ...dnsOk, httpStatus: response.status };
  if (answer.kind === 'portal') {
    const portal = { ...reached, reachable: true, captivePortal: true };
    return {
      connectivity: answer.location ? { ...portal, captivePortalLocation: answer.location } : portal,
      policy: undefined,
    };
  }
  if (answer.kind === 'error')
    return { connectivity: { ...reached, error: answer.message }, policy: undefined };
  const skew =
    answer.serverTimeMs === undefined ? null : clockSkewSeconds(answer.serverTimeMs, sentAt, receivedAt);
  return { connectivity: { ...reached, reachable: true, clockSkewSeconds: skew }, policy: answer.policy };
}

export function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
