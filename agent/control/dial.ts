/**
 * Opening the control channel: a fresh connection JWT per attempt (EdDSA with the node's own key,
 * aud `homenode-control`, sub the node id, 2 minutes, unique jti), the WebSocket upgrade, and the
 * server's refusal read back as HTTP status + JSON error body.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, importJWK } from 'jose';
import WebSocket from 'ws';
import { CONTROL_AUDIENCE, CONTROL_PATH, MAX_FRAME_BYTES } from '../../protocol/control.js';
import { pinChecker } from '../net/http-request.js';
import type { Identity } from '../state/state-store.js';

export const TOKEN_TTL_SECONDS = 120;

export async function signConnectionToken(
  identity: Identity,
  nodeId: string,
  nowMs: number,
): Promise<string> {
  return signNodeToken(identity, nodeId, nowMs, CONTROL_AUDIENCE);
}

/**
 * A single-use node JWT for `audience` (the control channel, artifact downloads): the server
 * accepts each `jti` once, on any of its node routes.
 */
export async function signNodeToken(
  identity: Identity,
  nodeId: string,
  nowMs: number,
  audience: string,
): Promise<string> {
  const key = await importJWK(identity.privateKey, 'EdDSA');
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT' })
    .setSubject(nodeId)
    .setAudience(audience)
    .setIssuedAt(iat)
    .setExpirationTime(iat + TOKEN_TTL_SECONDS)
    .setJti(randomUUID())
    .sign(key);
}

export function controlUrl(serverUrl: string): string {
  const url = new URL(CONTROL_PATH, serverUrl.endsWith('/') ? serverUrl : `${serverUrl}/`);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/**
 * What arrived between `open` and the session taking the socket: ws may emit the server's first
 * frames (welcome, join) and even a close in the same tick as `open`, before anyone listens.
 */
export interface EarlyEvents {
  messages: { data: WebSocket.RawData; isBinary: boolean }[];
  close?: { code: number; reason: Buffer };
  /** Stop buffering; the caller has its own listeners now. */
  release(): void;
}

export type DialResult =
  | { kind: 'open'; socket: WebSocket; early: EarlyEvents }
  | {
      kind: 'refused';
      status: number;
      code: string;
      message: string;
      reason?: string;
      /** The server's Retry-After (429, 503), in seconds, at most an hour. */
      retryAfterSeconds?: number;
    }
  /** `nobodyListening`: the connection was refused (nothing listens there now). */
  | { kind: 'unreachable'; message: string; nobodyListening?: boolean };

/** The `{ error: { code, message, details } }` body of a refusal, as far as it can be read. */
/** Retry-After as delay-seconds (what the server sends), bounded; undefined when absent or not a number. */
export function readRetryAfter(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,9}$/.test(value.trim())) return undefined;
  return Math.min(Number(value.trim()), MAX_RETRY_AFTER_SECONDS);
}

const MAX_RETRY_AFTER_SECONDS = 3600;

export function readRefusal(status: number, body: string): Extract<DialResult, { kind: 'refused' }> {
  try {
    const parsed = JSON.parse(body) as {
      error?: { code?: unknown; message?: unknown; details?: { reason?: unknown } };
    };
    const e = parsed.error ?? {};
    return {
      kind: 'refused',
      status,
      code: typeof e.code === 'string' ? e.code : `HTTP_${status}`,
      message: typeof e.message === 'string' ? e.message : `The server answered ${status}.`,
      ...(typeof e.details?.reason === 'string' ? { reason: e.details.reason } : {}),
    };
  } catch {
    return { kind: 'refused', status, code: `HTTP_${status}`, message: `The server answered ${status}.` };
  }
}

export function dial(
  serverUrl: string,
  token: string,
  options: { timeoutMs: number; serverPin?: string | undefined; signal?: AbortSignal },
): Promise<DialResult> {
  return new Promise((resolve) => {
    const socket = new WebSocket(controlUrl(serverUrl), {
      headers: { authorization: `Bearer ${token}` },
      handshakeTimeout: options.timeoutMs,
      maxPayload: MAX_FRAME_BYTES,
      perMessageDeflate: false,
      ...(options.serverPin ? { checkServerIdentity: pinChecker(options.serverPin) } : {}),
    });
    let settled = false;
    const settle = (result: DialResult) => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    const onAbort = () => {
      socket.terminate();
      settle({ kind: 'unreachable', message: 'stopped' });
    };
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const early: EarlyEvents = {
      messages: [],
      release: () => {
        socket.off('message', onEarlyMessage);
        socket.off('close', onEarlyClose);
      },
    };
    const onEarlyMessage = (data: WebSocket.RawData, isBinary: boolean) =>
      early.messages.push({ data, isBinary });
    const onEarlyClose = (code: number, reason: Buffer) => (early.close = { code, reason });
    socket.on('message', onEarlyMessage);
    socket.on('close', onEarlyClose);
    socket.once('open', () => {
      options.signal?.removeEventListener('abort', onAbort);
      settle({ kind: 'open', socket, early });
    });
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (body.length < 16_384) body += chunk;
      });
      const refused = () => {
        const retryAfterSeconds = readRetryAfter(res.headers['retry-after']);
        settle({
          ...readRefusal(res.statusCode ?? 0, body),
          ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
        });
      };
      res.on('end', refused);
      res.on('error', refused);
      // A refusal cut off in its body never ends: the connection's close settles the dial.
      res.on('close', refused);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      settle({
        kind: 'unreachable',
        message: describeNetworkError(error),
        nobodyListening: error.code === 'ECONNREFUSED',
      });
    });
  });
}

export function describeNetworkError(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'the server refused the connection (it may be restarting)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the server name could not be resolved (check DNS and the network cable)';
    case 'ETIMEDOUT':
      return 'the server did not answer in time';
    case 'ECONNRESET':
      return 'the connection was reset';
    default:
      return error.message || 'network error';
  }
}
