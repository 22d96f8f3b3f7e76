/**
 * Relays one ops terminal (a browser WebSocket) to a node's shell over its control channel. The
 * opening is recorded first (a shell whose opening cannot be recorded does not open); then the node
 * is asked for the shell and the browser is told `ready` only once the node confirms it
 * (`shell-opened`), or told why not. Output is relayed with backpressure (`shell-flow.ts`) and
 * recorded as asciicast up to its cap (`recording-budget.ts`), with idle and duration limits.
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
import { DAY_MS, type RecordingBudget } from './recording-budget.js';
import { ShellFlow } from './shell-flow.js';
import { ShellRecorder } from './shell-recorder.js';

export interface ShellRelayDeps {
  hub: ControlHub;
  repos: Transactional<{ shellSessions: ShellSessionRepository; activity: ActivityLog }>;
  now: () => number;
  shell: ShellLimits;
  /** Recordings go to `<dataDir>/recordings/<nodeId>/<sessionId>.cast`. */
  dataDir: string;
  recordings: RecordingBudget;
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
  recording: { maxBytes: number; limitText: string };
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
  let operatorLeft = false;
  const onEarlyClose = () => (operatorLeft = true);
  socket.on('close', onEarlyClose);
  repos
    .transaction(async (tx) => {
      const recordedToday = await tx.shellSessions.recordedBytesSince(nodeId, openedAt - DAY_MS);
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
      return recordedToday;
    })
    .then(
      (recordedToday) => {
        socket.off('close', onEarlyClose);
        const recording = ctx.recordings.allowance(nodeId, recordedToday);
        const opened: Opened = { sessionId, nodeId, principal, openedAt, recordingPath, recording };
        if (operatorLeft) recordClose(ctx, opened, 'The operator disconnected.', undefined);
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

function recordClose(ctx: ShellRelayDeps, opened: Opened, reason: string, recorder?: ShellRecorder): void {
  const at = ctx.now();
  const { sessionId, nodeId, principal, openedAt } = opened;
  const bytesOut = recorder?.bytesOut ?? 0;
  ctx.repos
    .transaction(async (tx) => {
      await tx.shellSessions.close(sessionId, {
        at,
        reason,
        bytesOut,
        recordedBytes: recorder?.recordedBytes ?? 0,
        recordingTruncated: recorder?.truncated ?? false,
      });
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

function recordTruncated(ctx: ShellRelayDeps, opened: Opened, recordedBytes: number): void {
  const { sessionId, nodeId } = opened;
  ctx.repos.activity
    .record(
      ctx.now(),
      { type: 'system', id: null },
      'shell.recording_truncated',
      { type: 'node', id: nodeId },
      { sessionId, recordedBytes, limit: opened.recording.limitText },
    )
    .catch((error: unknown) =>
      ctx.log.error({ err: error, nodeId }, 'shell recording cap could not be recorded'),
    );
}

function relay(ctx: ShellRelayDeps, socket: WebSocket, opened: Opened, cols: number, rows: number): void {
  const { hub, now, shell } = ctx;
  const { sessionId, nodeId, principal, openedAt, recordingPath } = opened;
  const recorder = new ShellRecorder(
    recordingPath,
    { cols, rows, startedAt: openedAt, title: `${nodeId} by ${principal.tokenId}` },
    now,
    { ...opened.recording, onLimit: (bytes) => recordTruncated(ctx, opened, bytes) },
  );
  const untrack = ctx.recordings.track(nodeId, recorder);
  let state: 'opening' | 'open' | 'ended' = 'opening';
  let idleTimer: NodeJS.Timeout | undefined;
  const send = (frame: unknown) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(frame));
  const flow = new ShellFlow(socket, shell, {
    pause: () => hub.shells.pause(nodeId, sessionId),
    resume: () => hub.shells.resume(nodeId, sessionId),
    overflow: (waiting) =>
      end(
        `The shell was closed: the machine sent output faster than this terminal could take it (${Math.round(waiting / 1024 / 1024)} MiB waiting) and did not pause when asked. Update the agent on the machine, then open the terminal again.`,
      ),
  });
  const end = (reason: string, exitCode?: number, fromNode = false) => {
    if (state === 'ended') return;
    state = 'ended';
    clearTimeout(idleTimer);
    clearTimeout(maxTimer);
    clearTimeout(openTimer);
    flow.stop();
    if (!fromNode) hub.shells.close(nodeId, sessionId, reason);
    recorder.close();
    untrack();
    recordClose(ctx, opened, reason, recorder);
    send({ type: 'end', reason, ...(exitCode === undefined ? {} : { exitCode }) });
    socket.close(1000, 'shell ended');
    // A browser that does not read never finishes the close: do not keep its buffer.
    setTimeout(() => socket.terminate(), 1_000).unref();
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
  const openTimer = setTimeout(
    () =>
      end(
        `The machine did not open a shell within ${Math.round(shell.openTimeoutMs / 1000)} s: its agent did not confirm the request. The machine may be busy, or run an agent too old for remote shells; try again, or collect its diagnostics.`,
      ),
    shell.openTimeoutMs,
  );
  const confirm = () => {
    if (state !== 'opening') return;
    state = 'open';
    clearTimeout(openTimer);
    touch();
    send({ type: 'ready', sessionId });
  };

  const asked = hub.openShell(nodeId, sessionId, cols, rows, {
    opened: confirm,
    data(base64) {
      if (state === 'ended') return;
      confirm();
      recorder.output(Buffer.from(base64, 'base64'));
      touch();
      send({ type: 'output', data: base64 });
      flow.check();
    },
    closed(reason, exitCode) {
      end(reason, exitCode, true);
    },
  });
  if (!asked) return end('The node went offline or disabled remote shells.', undefined, true);
  socket.on('message', (data: Buffer) => {
    const frame = parseClientFrame(data.toString());
    if (!frame)
      return send({
        type: 'error',
        message: 'Send {"type":"input","data":…}, {"type":"resize","cols":…,"rows":…} or {"type":"close"}.',
      });
    if (frame.type === 'close') return end('Closed by the operator.');
    // Until the node confirms the shell there is nothing to type into.
    if (state !== 'open') return;
    touch();
    if (frame.type === 'input') {
      recorder.input(frame.data);
      hub.shells.input(nodeId, sessionId, Buffer.from(frame.data, 'utf8').toString('base64'));
    } else {
      recorder.resize(frame.cols, frame.rows);
      hub.shells.resize(nodeId, sessionId, frame.cols, frame.rows);
    }
  });
  socket.on('close', () => end('The operator disconnected.'));
}
