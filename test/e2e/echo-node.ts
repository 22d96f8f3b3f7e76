/**
 * A machine for the browser tests: the identity the real agent wrote at enrollment, connected over
 * the real control protocol by the simulated agent, answering remote shells by echoing what is typed
 * (as a terminal in cooked mode would), so the dashboard's terminal can be checked end to end.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { importJWK } from 'jose';
import {
  type SimConnection,
  connectControl,
  signNodeToken,
  simHello,
  simMetrics,
} from '../../scripts/sim/sim-agent.js';

interface IdentityFile {
  publicKey: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  privateKey: { kty: 'OKP'; crv: 'Ed25519'; x: string; d: string };
}

export async function connectEchoNode(
  serverUrl: string,
  stateDir: string,
): Promise<{ nodeId: string; conn: SimConnection }> {
  const identityFile = JSON.parse(readFileSync(join(stateDir, 'identity.json'), 'utf8')) as IdentityFile;
  const { nodeId } = JSON.parse(readFileSync(join(stateDir, 'node.json'), 'utf8')) as { nodeId: string };
  const privateKey = await importJWK(identityFile.privateKey, 'EdDSA');
  if (privateKey instanceof Uint8Array) throw new Error('identity.json holds no Ed25519 private key');
  const identity = { privateKey, publicJwk: identityFile.publicKey };
  const { conn, refused } = await connectControl(serverUrl, await signNodeToken(identity, nodeId));
  if (!conn) throw new Error(`control channel refused: ${JSON.stringify(refused)}`);
  conn.socket.on('message', (raw: Buffer) => {
    const m = JSON.parse(raw.toString()) as { type: string; sessionId?: string; data?: string };
    const reply = (text: string) =>
      conn.send({ type: 'shell-data', sessionId: m.sessionId, data: Buffer.from(text).toString('base64') });
    if (m.type === 'shell-open') reply('echo-shell$ ');
    if (m.type === 'shell-data' && m.data) {
      const typed = Buffer.from(m.data, 'base64').toString();
      reply(typed.replaceAll('\r', '\r\n'));
    }
  });
  conn.send(simHello(true));
  await conn.next('welcome');
  conn.send({ type: 'heartbeat', seq: 1, metrics: simMetrics(7) });
  return { nodeId, conn };
}
