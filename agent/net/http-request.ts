/**
 * A small HTTP(S) client over node:http: bounded bodies, a timeout, no redirects followed (a
 * redirect is how captive portals show themselves) and an optional pin of the server's public key.
 */
import { X509Certificate, createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { type PeerCertificate, checkServerIdentity } from 'node:tls';

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  body?: unknown;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

export type HttpClient = (request: HttpRequest) => Promise<HttpResponse>;

/** A request that never got an answer (refused, reset, timed out, TLS failed). Worth retrying. */
export class NetworkError extends Error {
  override readonly name = 'NetworkError';
  constructor(
    message: string,
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;

/**
 * `sha256/<base64>` of the certificate's SubjectPublicKeyInfo (DER), the same form as HPKP pins and
 * what `openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256
 * -binary | base64` prints (docs/iso.md). Not `cert.pubkey`: for an EC key that is the bare curve
 * point, which no documented command gives, so an ECDSA certificate could never be pinned.
 */
export function publicKeyPin(cert: PeerCertificate): string {
  const spki = new X509Certificate(cert.raw).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256/${createHash('sha256').update(spki).digest('base64')}`;
}

export function createHttpClient(options: { serverPin?: string | undefined } = {}): HttpClient {
  return (request) => send(request, options.serverPin);
}

function send(request: HttpRequest, pin: string | undefined): Promise<HttpResponse> {
  const url = new URL(request.url);
  const body = request.body === undefined ? undefined : Buffer.from(JSON.stringify(request.body));
  const transport = url.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = transport.request(url, {
      method: request.method,
      headers,
      timeout: request.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      ...(pin && url.protocol === 'https:' ? { checkServerIdentity: pinChecker(pin) } : {}),
    });
    req.on('timeout', () => req.destroy(new NetworkError('the server did not answer in time', 'ETIMEDOUT')));
    req.on('error', (error) => reject(toNetworkError(error)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) req.destroy(new NetworkError('answer too large', 'ETOOLARGE'));
        else chunks.push(chunk);
      });
      res.on('error', (error) => reject(toNetworkError(error)));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: flatten(res.headers),
          text: Buffer.concat(chunks).toString('utf8'),
        }),
      );
    });
    req.end(body);
  });
}

/**
 * `checkServerIdentity` for a pinned server: the usual host name check, then the key pin. (The
 * certificate chain is still verified by TLS before this runs.)
 */
export function pinChecker(pin: string) {
  return (host: string, cert: PeerCertificate): Error | undefined => {
    const identity = checkServerIdentity(host, cert);
    if (identity) return identity;
    const actual = publicKeyPin(cert);
    if (actual === pin) return undefined;
    return new NetworkError(
      `the server at ${host} presented the certificate key ${actual}, not the pinned ${pin} (serverPin): ` +
        "the connection may be intercepted, or the server's key has changed; ask the operator for " +
        'the current pin before changing it in the config file',
      'EPIN',
    );
  };
}

function flatten(headers: http.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function toNetworkError(error: Error): NetworkError {
  if (error instanceof NetworkError) return error;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : 'ENETWORK';
  return new NetworkError(describeNetworkError(code, error.message), code, { cause: error });
}

const DESCRIPTIONS: Record<string, string> = {
  ECONNREFUSED: 'the server refused the connection',
  ECONNRESET: 'the connection was cut',
  ENOTFOUND: 'the server name could not be found (DNS)',
  EAI_AGAIN: 'the server name could not be looked up (DNS)',
  ETIMEDOUT: 'the server did not answer in time',
  EHOSTUNREACH: 'the server cannot be reached from this network',
  ENETUNREACH: 'this machine has no route to the internet',
};

export function describeNetworkError(code: string, fallback: string): string {
  return DESCRIPTIONS[code] ?? (fallback === 'socket hang up' ? 'the connection was cut' : fallback);
}
