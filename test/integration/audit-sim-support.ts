/**
 * Helpers for the server's audit tests: a real server on a clock the test moves, simulated nodes
 * (real keys, real signatures, the real protocol) that connect, join and answer audits as the test
 * says, and the events the server publishes.
 */
import { randomBytes } from 'node:crypto';
import {
  type SimConnection,
  type SimIdentity,
  connectControl,
  newSimIdentity,
  signNodeToken,
  simHello,
} from '../../scripts/sim/sim-agent.js';
import { type SimAuditVerdict, simAuditReport } from '../../scripts/sim/sim-audit.js';
import type { ServerMessage } from '../../protocol/control.js';
import type { HardwareFacts } from '../../protocol/hardware.js';
import type { PolicyOverrides } from '../../protocol/policy.js';
import type { AuditEvent } from '../../enroll-server/nodes/node-events.js';
import { enrollBody, newMachine, rtx4090Hardware } from '../helpers/enrollment.js';
import { type TestServer, type TestServerOptions, manualClock, startTestServer } from '../helpers/server.js';

export const GPU0 = 'GPU-5a7f3e7c-1b2d-4c9e-8f0a-6d3b2e1c4a90';
export const MIN = 60_000;
export const HOUR = 60 * MIN;

export interface AuditView {
  id: string;
  nodeId: string;
  trigger: string;
  status: string;
  requestedAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  checks: {
    id: string;
    status: string;
    summary: string;
    fix: string;
    docUrl: string;
    metrics: Record<string, number>;
  }[];
  diagnosticsId: string | null;
  error: string | null;
}

export interface NodeAudit {
  state: string;
  lastAuditId: string | null;
  lastPassedAt: string | null;
  nextAuditAt: string | null;
  current: { id: string; status: string } | null;
  checkAgainAt: string | null;
}

export interface SimNode {
  nodeId: string;
  ownerId: string;
  identity: SimIdentity;
  readonly conn: SimConnection;
  /** Open a new session (after `conn.close`). */
  reconnect(): Promise<SimConnection>;
  /** The next `audit` frame, answered with a signed report. */
  answer(verdict?: SimAuditVerdict): Promise<Extract<ServerMessage, { type: 'audit' }>>;
}

export async function auditSetup(
  options: {
    policy?: PolicyOverrides;
    dbPath?: string;
    port?: number;
    start?: number;
    /** Run the server on this PostgreSQL database instead of a SQLite file. */
    databaseUrl?: string;
    /** Server dependencies (e.g. fast notification loops). */
    deps?: TestServerOptions['deps'];
    auditor?: TestServerOptions['auditor'];
  } = {},
) {
  const clock = manualClock(options.start ?? Math.floor(Date.now() / MIN) * MIN);
  const server = await startTestServer({
    now: clock.now,
    policy: options.policy,
    random: () => 0.5,
    deps: options.deps,
    ...(options.auditor ? { auditor: options.auditor } : {}),
    ...(options.dbPath ? { dbPath: options.dbPath, port: options.port } : {}),
    ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}),
  });
  const context = server.app.homenode.context;
  const events: AuditEvent[] = [];
  context.events.subscribeAudit((e) => events.push(e));

  async function connect(
    nodeId: string,
    identity: SimIdentity,
    on: TestServer = server,
  ): Promise<SimConnection> {
    const token = await signNodeToken(identity, nodeId, {
      skewSeconds: Math.round((clock.now() - Date.now()) / 1000),
    });
    const { conn, refused } = await connectControl(on.url, token);
    if (!conn) throw new Error(`connection refused: ${JSON.stringify(refused)}`);
    conn.send(simHello());
    await conn.next('welcome');
    return conn;
  }

  async function node(
    opts: {
      ownerId?: string;
      approve?: boolean;
      join?: boolean;
      connect?: boolean;
      hardware?: HardwareFacts;
    } = {},
  ): Promise<SimNode> {
    const ownerId = opts.ownerId ?? (await server.createOwner()).id;
    const identity = await newSimIdentity();
    const machine = {
      ...(await newMachine(opts.hardware ?? rtx4090Hardware())),
      publicKey: identity.publicJwk,
    };
    const enrolled = await server.api<{ nodeId: string }>('POST', '/v1/enroll', {
      token: null,
      body: enrollBody((await server.createKey(ownerId)).key, machine),
    });
    if (enrolled.status !== 201)
      throw new Error(`enroll: ${enrolled.status} ${JSON.stringify(enrolled.body)}`);
    const { nodeId } = enrolled.body;
    if (opts.approve !== false) await server.api('POST', `/v1/nodes/${nodeId}/approve`, { body: {} });
    let conn = opts.connect === false ? undefined : await connect(nodeId, identity);
    const sim: SimNode = {
      nodeId,
      ownerId,
      identity,
      get conn() {
        if (!conn) throw new Error(`node ${nodeId} is not connected`);
        return conn;
      },
      reconnect: async () => (conn = await connect(nodeId, identity)),
      async answer(verdict = 'pass') {
        const request = await sim.conn.next('audit');
        const jws = await simAuditReport(identity, nodeId, request.auditId, {
          verdict,
          serverUrl: server.url,
          finishedAt: clock.now(),
        });
        sim.conn.send({ type: 'audit-report', auditId: request.auditId, jws });
        return request;
      },
    };
    if (conn && opts.join) {
      await conn.next('join');
      conn.send({
        type: 'join-result',
        ok: true,
        // Each node its own key: the server refuses a key another node holds.
        wireguardPublicKey: randomBytes(32).toString('base64'),
      });
      await waitFor(
        async () =>
          (await server.api<{ status: string }>('GET', `/v1/nodes/${nodeId}`)).body.status === 'active',
        'the node to be active',
      );
    }
    return sim;
  }

  const audits = async (nodeId: string, token?: string) =>
    (await server.api<{ audits: AuditView[]; total: number }>('GET', `/v1/nodes/${nodeId}/audits`, { token }))
      .body;
  const state = async (nodeId: string) =>
    (await server.api<{ audit: NodeAudit }>('GET', `/v1/nodes/${nodeId}`)).body.audit;
  /** Wait until the node's audit has an outcome (frames are handled concurrently). */
  const settled = async (nodeId: string, auditId: string) => {
    let found: AuditView | undefined;
    await waitFor(async () => {
      found = (await audits(nodeId)).audits.find((a) => a.id === auditId);
      return found !== undefined && !['queued', 'running'].includes(found.status);
    }, `audit ${auditId} to end`);
    return found!;
  };
  const running = () => context.repos.audits.countRunning();

  return {
    clock,
    server,
    context,
    events,
    node,
    connect,
    audits,
    state,
    settled,
    running,
    tick: () => context.audits.tick(),
  };
}

export async function waitFor(test: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
