/**
 * Helpers for the artifact tests: uploads over real HTTP, enrolled nodes with a real agent identity
 * (their JWTs signed by the agent's own code), and files of a given size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { generateIdentity } from '../../agent/state/identity.js';
import { signNodeToken } from '../../agent/control/dial.js';
import type { Identity } from '../../agent/state/state-store.js';
import { ARTIFACT_AUDIENCE } from '../../protocol/artifacts.js';
import { resolvePolicy } from '../../protocol/policy.js';
import { assessHardware } from '../../protocol/preflight.js';
import { rtx4090Hardware } from '../helpers/enrollment.js';
import type { TestServer } from '../helpers/server.js';

export const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Bytes that do not compress and do not repeat. */
export const randomFile = (size: number) => randomBytes(size);

export interface UploadAnswer {
  status: number;
  body: Record<string, unknown> & {
    name?: string;
    version?: string;
    sha256?: string;
    size?: number;
    signature?: string;
    url?: string;
    error?: { code: string; message: string };
  };
}

export async function upload(
  server: TestServer,
  name: string,
  version: string,
  bytes: Buffer,
  options: { token?: string | null; contentType?: string } = {},
): Promise<UploadAnswer> {
  const token = options.token === undefined ? server.adminToken : options.token;
  const res = await fetch(
    `${server.url}/v1/artifacts?name=${encodeURIComponent(name)}&version=${encodeURIComponent(version)}`,
    {
      method: 'POST',
      headers: {
        'content-type': options.contentType ?? 'application/octet-stream',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: new Uint8Array(bytes),
    },
  );
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as UploadAnswer['body']) : {} };
}

export interface TestNode {
  nodeId: string;
  identity: Identity;
  /** A fresh single-use JWT for artifact downloads (or another audience). */
  token(audience?: string): Promise<string>;
}

/** A node enrolled with a real agent identity; approved when asked. */
export async function enrolledNode(
  server: TestServer,
  options: { approve?: boolean } = {},
): Promise<TestNode> {
  const identity = await generateIdentity(Date.now);
  const owner = await server.createOwner();
  const { key } = await server.createKey(owner.id);
  const hardware = rtx4090Hardware();
  const res = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
    token: null,
    body: {
      installationKey: key,
      publicKey: identity.publicKey,
      fingerprint: createHash('sha256').update(randomBytes(16)).digest('hex'),
      hardware,
      preflight: assessHardware(hardware, resolvePolicy()),
      agentVersion: '0.1.0',
    },
  });
  if (res.status !== 201) throw new Error(`enroll: ${res.status} ${JSON.stringify(res.body)}`);
  const nodeId = res.body.nodeId;
  if (options.approve) await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
  return {
    nodeId,
    identity,
    token: (audience = ARTIFACT_AUDIENCE) => signNodeToken(identity, nodeId, Date.now(), audience),
  };
}

/** GET with a bearer token and extra headers; the body as bytes. */
export async function download(
  url: string,
  token: string | null,
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<{
  status: number;
  headers: Headers;
  bytes: Buffer;
  json?: { error: { code: string; message: string } };
}> {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json')
    ? (JSON.parse(bytes.toString('utf8')) as { error: { code: string; message: string } })
    : undefined;
  return { status: res.status, headers: res.headers, bytes, ...(json ? { json } : {}) };
}
