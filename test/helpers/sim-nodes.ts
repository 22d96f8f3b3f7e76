/** Simulated nodes (real keys, real protocol) enrolled on a test server, for control-channel tests. */
import { CONTROL_PATH } from '../../protocol/control.js';
import {
  type SimConnection,
  type SimIdentity,
  connectControl,
  newSimIdentity,
  signNodeToken,
  simHello,
} from '../../scripts/sim/sim-agent.js';
import { enrollBody, newMachine } from './enrollment.js';
import { type RawWebSocket, rawWebSocket } from './raw-websocket.js';
import type { TestServer } from './server.js';

export interface SimNode {
  nodeId: string;
  identity: SimIdentity;
}

export async function enrollSimNode(
  server: TestServer,
  ownerId: string,
  options: { approve?: boolean } = {},
): Promise<SimNode> {
  const identity = await newSimIdentity();
  const machine = { ...(await newMachine()), publicKey: identity.publicJwk };
  const res = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
    token: null,
    body: enrollBody((await server.createKey(ownerId)).key, machine),
  });
  if (res.status !== 201) throw new Error(`enroll: ${res.status} ${JSON.stringify(res.body)}`);
  const { nodeId } = res.body;
  if (options.approve) await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
  return { nodeId, identity };
}

/** Connect with a fresh token and say hello; waits until the server has handled the hello. */
export async function connectSim(server: TestServer, node: SimNode): Promise<SimConnection> {
  const { conn, refused } = await connectControl(server.url, await signNodeToken(node.identity, node.nodeId));
  if (!conn) throw new Error(`refused: ${JSON.stringify(refused)}`);
  conn.send(simHello());
  await conn.sync();
  return conn;
}

/** The same, as a peer that ignores close frames (or never reads). */
export async function connectRaw(
  server: TestServer,
  node: SimNode,
  options: { read?: boolean } = {},
): Promise<RawWebSocket> {
  const token = await signNodeToken(node.identity, node.nodeId);
  const ws = await rawWebSocket(server.url, CONTROL_PATH, { authorization: `Bearer ${token}` }, options);
  if (ws.status !== 101) throw new Error(`refused: ${ws.status} ${ws.body}`);
  return ws;
}

export async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `promise`, or a failure naming `what` after `timeoutMs` (a test never hangs on a socket that stays open). */
export async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
