/**
 * Relays one ops terminal (a browser WebSocket) to a node's shell over its control channel,
 * recording it (asciicast), with idle and duration limits. Opening and closing are written to the
 * shell sessions and the activity log; a shell whose opening cannot be recorded does not open.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { ActivityLog } from '../core/activity-log.js';
import { type Principal, actorOf } from '../core/auth.js';
import type { ShellLimits } from '../core/config.js';
import type { Transactional } from '../core/transactions.js';
import type { ShellSessionRepository } from './command-repository.js';
import type { ControlHub } from './hub.js';
import { ShellRecorder } from './shell-recorder.js';

export interface ShellRelayDeps {
  hub: ControlHub;
  repos: Transactional<{ shellSessions: ShellSessionRepository; activity: ActivityLog }>;
  now: () => number;
  shell: ShellLimits;
  /** Recordings go to `<dataDir>/recordings/<nodeId>/<sessionId>.cast`. */
  dataDir: string;
  log: FastifyBaseLogger;
}

export const newShellSessionId = (): string => `sh_${randomBytes(9).toString('base64url')}`;

type ClientFrame =
  { type: 'input'; data: string } | { type: 'resize'; cols: number; rows: number } | { type: 'close' };

function parseClientFrame(text: string): ClientFrame | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (v.type === 'input' && typeof v.data === 'string' && v.data.length <= 16_384)
      return { type: 'input', data: v.data };
    if (v.type === 'resize' && Number.isInteger(v.cols) && Number.isInteger(v.rows)) {
      return {
        type: 'resize',
        cols: Math.min(500, Math.max(10, Number(v.cols))),
        rows: Math.min(200, Math.max(5, Number(v.rows))),
      };
    }
    if (v.type === 'close') return { type: 'close' };
  } catch {
    // fall through
  }
  return undefined;
}

interface Opened {
  sessionId: string;
  nodeId: string;
  principal: Principal;
  openedAt: number;
  recordingPath: string;
}

/** Record the opening first; then relay (or, if the operator left meanwhile, record the end). */
export function openShellSession(
  ctx: ShellRelayDeps,
  socket: WebSocket,
  nodeId: string,
  principal: Principal,
  cols: number,
  rows: number,
): void {
  const { repos, now } = ctx;
  const sessionId = newShellSessionId();
  const openedAt = now();
  const recordingPath = join(ctx.dataDir, 'recordings', nodeId, `${sessionId}.cast`);
  const opened: Opened = { sessionId, nodeId, principal, openedAt, recordingPath };
  let operatorLeft = false;
  const onEarlyClose = () => (operatorLeft = true);
  socket.on('close', onEarlyClose);
  repos
    .transaction(async (tx) => {
      await tx.shellSessions.open({
        id: sessionId,
        nodeId,
        openedBy: principal.tokenId,
        openedAt,
        recordingPath,
      });
      await tx.activity.record(
        openedAt,
        actorOf(principal),
        'shell.opened',
        { type: 'node', id: nodeId },
        { sessionId, recordingPath },
      );
    })
    .then(
      () => {
        socket.off('close', onEarlyClose);
        if (operatorLeft) recordClose(ctx, opened, 'The operator disconnected.', 0);
        else relay(ctx, socket, opened, cols, rows);
      },
      (error: unknown) => {
        ctx.log.error({ err: error, nodeId }, 'shell session could not be recorded');
        if (socket.readyState === socket.OPEN) {
          socket.send(
            JSON.stringify({
              type: 'end',
              reason: 'The shell could not be opened: the server could not record it. Try again later.',
            }),
          );
          socket.close(1011, 'shell not recorded');
        }
      },
    );
}

function recordClose(ctx: ShellRelayDeps, opened: Opened, reason: string, bytesOut: number): void {
  const at = ctx.now();
  const { sessionId, nodeId, principal, openedAt } = opened;
  ctx.repos
    .transaction(async (tx) => {
      await tx.shellSessions.close(sessionId, at, reason, bytesOut);
      await tx.activity.record(
        at,
        actorOf(principal),
        'shell.closed',
        { type: 'node', id: nodeId },
        { sessionId, reason, seconds: Math.round((at - openedAt) / 1000), bytesOut },
      );
    })
    .catch((error: unknown) =>
      ctx.log.error({ err: error, nodeId }, 'shell session end could not be recorded'),
    );
}

function relay(ctx: ShellRelayDeps, socket: WebSocket, opened: Opened, cols: number, rows: number): void {
  const { hub, now, shell } = ctx;
  const { sessionId, nodeId, principal, openedAt, recordingPath } = opened;
  const recorder = new ShellRecorder(
    recordingPath,
    { cols, rows, startedAt: openedAt, title: `${nodeId} by ${principal.tokenId}` },
    now,
  );
  let ended = false;
  let idleTimer: NodeJS.Timeout | undefined;
  const send = (frame: unknown) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));
  const end = (reason: string, exitCode?: number, fromNode = false) => {
    if (ended) return;
    ended = true;
    clearTimeout(idleTimer);
    clearTimeout(maxTimer);
    if (!fromNode) hub.shells.close(nodeId, sessionId, reason);
    recorder.close();
    recordClose(ctx, opened, reason, recorder.bytesOut);
    send({ type: 'end', reason, ...(exitCode === undefined ? {} : { exitCode }) });
    socket.close(1000, 'shell ended');
  };
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(
      () => end(`Closed after ${Math.round(shell.idleTimeoutMs / 60_000)} minutes without activity.`),
      shell.idleTimeoutMs,
    );
  };
  const maxTimer = setTimeout(
    () =>
      end(`Closed: a shell session may last at most ${Math.round(shell.maxDurationMs / 60_000)} minutes.`),
    shell.maxDurationMs,
  );
  touch();

  const opening = hub.openShell(nodeId, sessionId, cols, rows, {
    data(base64) {
      const bytes = Buffer.from(base64, 'base64');
      recorder.output(bytes);
      touch();
      send({ type: 'output', data: base64 });
    },
    closed(reason, exitCode) {
      end(reason, exitCode, true);
    },
  });
  if (!opening) return end('The node went offline or disabled remote shells.', undefined, true);
  send({ type: 'ready', sessionId });
  socket.on('message', (data: Buffer) => {
    const frame = parseClientFrame(data.toString());
    if (!frame)
      return send({
        type: 'error',
        message: 'Send {"type":"input","data":…}, {"type":"resize","cols":…,"rows":…} or {"type":"close"}.',
      });
    touch();
    if (frame.type === 'input') {
      recorder.input(frame.data);
      hub.shells.input(nodeId, sessionId, Buffer.from(frame.data, 'utf8').toString('base64'));
    } else if (frame.type === 'resize') {
      recorder.resize(frame.cols, frame.rows);
      hub.shells.resize(nodeId, sessionId, frame.cols, frame.rows);
    } else {
      end('Closed by the operator.');
    }
  });
  socket.on('close', () => end('The operator disconnected.'));
}
