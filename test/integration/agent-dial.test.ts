/**
 * The agent's dial over connections cut at the worst moments (a flaky home line): every dial
 * settles, and a cut-off refusal is never read as the server refusing the machine for good.
 */
import { type Server, type Socket, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dial } from '../../agent/control/dial.js';

describe('dialing the control channel over a torn connection', () => {
  let server: Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  /** A TCP server that reads the upgrade request and answers with `reply`, then cuts. */
  async function answering(reply: string): Promise<string> {
    const sockets = new Set<Socket>();
    server = createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        socket.write(reply);
        socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  }

  it('settles when a refusal is cut off in its body, as an ordinary refusal (the agent retries)', async () => {
    const url = await answering(
      'HTTP/1.1 403 Forbidden\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"error":{"code":"NODE_REV',
    );
    const started = Date.now();
    const result = await dial(url, 'token', { timeoutMs: 30_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(result).toMatchObject({ kind: 'refused', status: 403, code: 'HTTP_403' });
  });

  it("reads a refusal's Retry-After, so the agent does not come back sooner", async () => {
    const url = await answering(
      'HTTP/1.1 429 Too Many Requests\r\nretry-after: 12\r\ncontent-type: application/json\r\ncontent-length: 53\r\n\r\n{"error":{"code":"RATE_LIMITED","message":"Wait 12"}}',
    );
    expect(await dial(url, 'token', { timeoutMs: 30_000 })).toMatchObject({
      kind: 'refused',
      status: 429,
      code: 'RATE_LIMITED',
      retryAfterSeconds: 12,
    });
  });

  it('settles when the connection is cut before any answer', async () => {
    const url = await answering('');
    const result = await dial(url, 'token', { timeoutMs: 30_000 });
    expect(result.kind).toBe('unreachable');
  });
});
