/**
 * The network probe's client (protocol/audit.ts "network probe"): timed requests to
 * `GET/POST /v1/net-probe` over one kept-alive connection, each with a fresh node JWT. Downloads
 * are counted, not kept; error answers are read up to 16 KiB for their code.
 */
import http from 'node:http';
import https from 'node:https';
import {
  NET_PROBE_CONTENT_TYPE,
  NET_PROBE_MAX_DOWNLOAD_BYTES,
  NET_PROBE_PATH,
} from '../../protocol/audit.js';
import { describeNetworkError, pinChecker } from '../net/http-request.js';

export interface ProbeAnswer {
  status: number;
  /** Body bytes received (downloads), or the bytes the server says it read (uploads). */
  bytes: number;
  /** From sending the request to the end of the answer. */
  ms: number;
  /** `error.code` of a JSON error answer, when there is one. */
  errorCode: string | undefined;
  retryAfter: string | undefined;
}

export class ProbeNetworkError extends Error {
  override readonly name = 'ProbeNetworkError';
}

export interface NetProbeClient {
  download(bytes: number, timeoutMs: number): Promise<ProbeAnswer>;
  upload(body: Buffer, timeoutMs: number): Promise<ProbeAnswer>;
  close(): void;
}

const ERROR_BODY_BYTES = 16 * 1024;

function errorCodeOf(text: string): string | undefined {
  try {
    const body: unknown = JSON.parse(text);
    if (typeof body !== 'object' || body === null || !('error' in body)) return undefined;
    const error: unknown = body.error;
    return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
      ? error.code
      : undefined;
  } catch {
    return undefined;
  }
}

/** The `{ bytes }` an upload answer carries; -1 when it does not. */
function countedBytes(text: string): number {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && 'bytes' in value && typeof value.bytes === 'number'
      ? value.bytes
      : -1;
  } catch {
    return -1;
  }
}

export function createNetProbeClient(options: {
  serverUrl: string;
  token: () => Promise<string | undefined>;
  serverPin: string | undefined;
  monotonic: () => number;
}): NetProbeClient {
  const base = new URL(options.serverUrl.endsWith('/') ? options.serverUrl : `${options.serverUrl}/`);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 1 })
    : new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = (query: string) => new URL(`${NET_PROBE_PATH.slice(1)}${query}`, base);

  async function send(method: 'GET' | 'POST', target: URL, body: Buffer | undefined, timeoutMs: number) {
    const token = await options.token();
    const headers: Record<string, string> = { accept: `${NET_PROBE_CONTENT_TYPE}, application/json` };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body) {
      headers['content-type'] = NET_PROBE_CONTENT_TYPE;
      headers['content-length'] = String(body.length);
    }
    const transport = secure ? https : http;
    const started = options.monotonic();
    return new Promise<ProbeAnswer>((resolve, reject) => {
      const req = transport.request(target, {
        method,
        headers,
        agent,
        timeout: timeoutMs,
        ...(options.serverPin && secure ? { checkServerIdentity: pinChecker(options.serverPin) } : {}),
      });
      const fail = (error: Error) => {
        const code = 'code' in error && typeof error.code === 'string' ? error.code : 'ENETWORK';
        reject(new ProbeNetworkError(describeNetworkError(code, error.message)));
      };
      const timedOut = () =>
        req.destroy(Object.assign(new Error('the server did not answer in time'), { code: 'ETIMEDOUT' }));
      // `timeout` is for a silent socket; the whole exchange is bounded too (a trickle ends as well).
      const overall = setTimeout(timedOut, timeoutMs);
      req.on('timeout', timedOut);
      req.on('close', () => clearTimeout(overall));
      req.on('error', fail);
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        let received = 0;
        const kept: Buffer[] = [];
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > NET_PROBE_MAX_DOWNLOAD_BYTES + ERROR_BODY_BYTES)
            req.destroy(new Error('the answer is larger than the probe allows'));
          else if (status !== 200 || method === 'POST') {
            if (received <= ERROR_BODY_BYTES) kept.push(chunk);
          }
        });
        res.on('error', fail);
        res.on('end', () => {
          const text = Buffer.concat(kept).toString('utf8');
          const bytes = method === 'POST' && status === 200 ? countedBytes(text) : received;
          const retry = res.headers['retry-after'];
          resolve({
            status,
            bytes,
            ms: options.monotonic() - started,
            errorCode: status === 200 ? undefined : errorCodeOf(text),
            retryAfter: typeof retry === 'string' ? retry : undefined,
          });
        });
      });
      req.end(body);
    });
  }

  return {
    download: (bytes, timeoutMs) => send('GET', url(`?bytes=${bytes}`), undefined, timeoutMs),
    upload: (body, timeoutMs) => send('POST', url(''), body, timeoutMs),
    close: () => agent.destroy(),
  };
}
