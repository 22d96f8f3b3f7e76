/**
 * A WebSocket client written against the wire (RFC 6455) for tests that need a peer the `ws`
 * library will not play: one that ignores the server's close frame and keeps sending, or one that
 * never reads at all. It does the HTTP upgrade, sends masked text frames and reads the server's
 * unmasked text and close frames.
 */
import { randomBytes } from 'node:crypto';
import { type Socket, connect } from 'node:net';

export interface RawWebSocket {
  socket: Socket;
  /** The HTTP status of the upgrade (101 when upgraded). */
  status: number;
  headers: Record<string, string>;
  /** The refusal's body, when not upgraded. */
  body: string;
  /** Text frames received so far, parsed as JSON. */
  messages: Record<string, unknown>[];
  /** The close frame's code, once the server sent one. */
  closeCode: number | undefined;
  /** True once the TCP connection is gone. */
  readonly closed: boolean;
  whenClosed: Promise<void>;
  sendText(text: string): void;
  sendJson(value: unknown): void;
}

function frame(opcode: number, payload: Buffer): Buffer {
  const mask = randomBytes(4);
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigLength(length)]);
  const masked = Buffer.alloc(length);
  for (let i = 0; i < length; i += 1) masked[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

function bigLength(length: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(length));
  return b;
}

/**
 * Upgrade `url` + `path` with `headers`. `read: false` makes a peer that never reads after the
 * handshake (the kernel buffers fill, then the server's).
 */
export function rawWebSocket(
  url: string,
  path: string,
  headers: Record<string, string>,
  options: { read?: boolean } = {},
): Promise<RawWebSocket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  let closed = false;
  const whenClosed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      closed = true;
      resolve();
    }),
  );
  socket.on('error', () => undefined);
  const ws: RawWebSocket = {
    socket,
    status: 0,
    headers: {},
    body: '',
    messages: [],
    closeCode: undefined,
    get closed() {
      return closed;
    },
    whenClosed,
    sendText: (text) => {
      if (!socket.destroyed) socket.write(frame(0x1, Buffer.from(text, 'utf8')));
    },
    sendJson: (value) => ws.sendText(JSON.stringify(value)),
  };
  const request = [
    `GET ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve, reject) => {
    let buffer: Buffer = Buffer.alloc(0);
    let upgraded = false;
    socket.once('connect', () => socket.write(request));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        ws.status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1] ?? 0);
        for (const line of lines) {
          const at = line.indexOf(':');
          ws.headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
        }
        buffer = buffer.subarray(end + 4);
        upgraded = true;
        if (ws.status !== 101) {
          socket.on('end', () => resolve(ws));
          socket.on('close', () => resolve(ws));
          ws.body = buffer.toString('utf8');
          socket.on('data', (more: Buffer) => (ws.body += more.toString('utf8')));
          return;
        }
        if (options.read === false) socket.pause();
        resolve(ws);
      }
      buffer = readFrames(buffer, ws);
    });
  });
}

/** Parse complete server frames off the front of `buffer`; returns what is left. */
function readFrames(buffer: Buffer, ws: RawWebSocket): Buffer {
  for (;;) {
    if (buffer.length < 2) return buffer;
    const opcode = buffer[0]! & 0x0f;
    let length = buffer[1]! & 0x7f;
    let at = 2;
    if (length === 126) {
      if (buffer.length < 4) return buffer;
      length = buffer.readUInt16BE(2);
      at = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return buffer;
      length = Number(buffer.readBigUInt64BE(2));
      at = 10;
    }
    if (buffer.length < at + length) return buffer;
    const payload = buffer.subarray(at, at + length);
    if (opcode === 0x1) ws.messages.push(JSON.parse(payload.toString('utf8')) as Record<string, unknown>);
    if (opcode === 0x8) ws.closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
    buffer = buffer.subarray(at + length);
  }
}
