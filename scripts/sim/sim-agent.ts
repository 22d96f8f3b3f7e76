/**
 * A simulated agent speaking the real control protocol with real keys and signatures (jose, ws):
 * used by the control benchmark, the demo and tests. It does no probing and runs no programs.
 */
import { randomUUID } from 'node:crypto';
import { CompactSign, type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import WebSocket from 'ws';
import type { PublicJwk } from '../../protocol/api.js';
import {
  CONTROL_AUDIENCE,
  CONTROL_PATH,
  type NodeMetrics,
  type ServerMessage,
} from '../../protocol/control.js';
import type { HardwareFacts } from '../../protocol/hardware.js';

export interface SimIdentity {
  privateKey: CryptoKey;
  publicJwk: PublicJwk;
}

export async function newSimIdentity(): Promise<SimIdentity> {
  const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
  const jwk: JWK = await exportJWK(publicKey);
  return { privateKey, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: String(jwk.x) } };
}

export interface TokenOptions {
  /** Seconds from now; defaults to 120. */
  ttlSeconds?: number;
  /** Pretend the clock is off by this many seconds. */
  skewSeconds?: number;
  jti?: string;
  audience?: string;
}

export async function signNodeToken(
  identity: SimIdentity,
  nodeId: string,
  options: TokenOptions = {},
): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) + (options.skewSeconds ?? 0);
  return new SignJWT({})
    .setProtectedHeader({ alg: 'EdDSA' })
    .setSubject(nodeId)
    .setAudience(options.audience ?? CONTROL_AUDIENCE)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.ttlSeconds ?? 120))
    .setJti(options.jti ?? randomUUID())
    .sign(identity.privateKey);
}

export async function signPayload(identity: SimIdentity, payload: unknown): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'EdDSA' })
    .sign(identity.privateKey);
}

export function simMetrics(seed = 0): NodeMetrics {
  return {
    load1: 0.5 + (seed % 7) / 10,
    load5: 0.4,
    load15: 0.3,
    memTotalBytes: 64 * 1024 ** 3,
    memUsedBytes: 12 * 1024 ** 3,
    uptimeSeconds: 3600 + seed,
    gpus: [
      {
        index: 0,
        utilizationPct: seed % 100,
        memoryUsedBytes: 2 * 1024 ** 3,
        memoryTotalBytes: 24 * 1024 ** 3,
        temperatureC: 45 + (seed % 30),
      },
    ],
  };
}

export interface ConnectResult {
  ok: boolean;
  status?: number;
  body?: string;
  /** The connection was refused: nothing listens at the address. */
  nobodyListening?: boolean;
  /** The refusal's Retry-After, in seconds. */
  retryAfterSeconds?: number;
}

/** One simulated node's connection. Messages from the server are queued for `next()`. */
export class SimConnection {
  readonly received: ServerMessage[] = [];
  private waiters: { match: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void }[] = [];
  closeCode: number | undefined;
  closeReason = '';
  private readonly closed: Promise<void>;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      if (this.handler) return this.handler(message);
      this.received.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
    this.closed = new Promise((resolve) =>
      socket.on('close', (code, reason) => {
        this.closeCode = code;
        this.closeReason = reason.toString();
        resolve();
      }),
    );
  }

  private handler: ((message: ServerMessage) => void) | undefined;

  /** Hand every message (those already queued first) to `handler` instead of queueing them. */
  listen(handler: (message: ServerMessage) => void): void {
    this.handler = handler;
    for (const message of this.received.splice(0)) handler(message);
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The first received message matching, waiting up to `timeoutMs`. */
  next<T extends ServerMessage['type']>(
    type: T,
    match: (m: Extract<ServerMessage, { type: T }>) => boolean = () => true,
    timeoutMs = 5000,
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const test = (m: ServerMessage): m is Extract<ServerMessage, { type: T }> =>
      m.type === type && match(m as Extract<ServerMessage, { type: T }>);
    const found = this.received.find(test);
    if (found) {
      this.received.splice(this.received.indexOf(found), 1);
      return Promise.resolve(found);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "${type}" message within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        match: test,
        resolve: (m) => {
          clearTimeout(timer);
          this.received.splice(this.received.indexOf(m), 1);
          resolve(m as Extract<ServerMessage, { type: T }>);
        },
      });
    });
  }

  /** A barrier: resolves once the server has handled every frame sent before (frames are handled in order). */
  sync(timeoutMs = 5000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no pong')), timeoutMs);
      this.socket.once('pong', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.ping();
    });
  }

  async close(bye = true): Promise<void> {
    if (bye && this.socket.readyState === WebSocket.OPEN) this.send({ type: 'bye', reason: 'shutdown' });
    this.socket.close(1000);
    await this.closed;
  }

  waitClosed(): Promise<void> {
    return this.closed;
  }
}

/** Open a control connection; resolves with the connection or with the HTTP refusal. */
export function connectControl(
  baseUrl: string,
  token: string,
): Promise<{ conn?: SimConnection; refused?: ConnectResult }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(baseUrl.replace(/^http/, 'ws') + CONTROL_PATH, {
      headers: { authorization: `Bearer ${token}` },
      handshakeTimeout: 10_000,
    });
    const conn = new SimConnection(socket);
    socket.once('open', () => resolve({ conn }));
    socket.once('unexpected-response', (_req, res) => {
      let body = '';
      const retryAfter = Number(res.headers['retry-after']);
      const refused = () =>
        resolve({
          refused: {
            ok: false,
            status: res.statusCode,
            body,
            ...(Number.isInteger(retryAfter) && retryAfter > 0 ? { retryAfterSeconds: retryAfter } : {}),
          },
        });
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      // A refusal whose body is cut off never ends: its close (or error) answers too.
      res.on('end', refused);
      res.on('error', refused);
      res.on('close', refused);
    });
    socket.once('error', (error: NodeJS.ErrnoException) =>
      resolve({
        refused: { ok: false, body: error.message, nobodyListening: error.code === 'ECONNREFUSED' },
      }),
    );
  });
}

export function simHello(shellEnabled = true, agentVersion = 'sim-0.1.0') {
  return {
    type: 'hello',
    agentVersion,
    bootId: randomUUID(),
    hardwareDigest: 'sim',
    shellEnabled,
  } as const;
}

export type { HardwareFacts };
