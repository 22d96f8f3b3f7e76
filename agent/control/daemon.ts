/**
 * The enrolled agent's daemon (`run` once enrolled): keeps the control channel open with
 * full-jitter reconnects, shows the node's status, applies joins, meters workloads, answers
 * commands and remote shells. It returns an exit code (docs/agent.md): 0 after a clean stop (bye),
 * 7 when the server refuses this node (revoked or rejected), 75 when ops asked for a restart.
 */
import { ARTIFACT_AUDIENCE } from '../../protocol/artifacts.js';
import { type AgentMessage, type JoinMessage, USAGE_FINAL_CODES } from '../../protocol/control.js';
import type { NodeStatus } from '../../protocol/api.js';
import { requireServerUrl } from '../cli/config.js';
import { loadFactsFile } from '../cli/gather-preflight.js';
import { DEFAULT_POLICY, type Policy } from '../../protocol/policy.js';
import { loadAuditRecord } from '../audit/audit-state.js';
import { createDaemonAudits } from '../audit/daemon-audits.js';
import { EXIT, type AgentContext } from '../cli/context.js';
import { runNodeCommand } from '../commands/node-commands.js';
import { applyJoin, loadJoinState } from '../join/apply-join.js';
import { collectMetrics } from '../metrics/collect-metrics.js';
import { RemoteShells } from '../shell/remote-shells.js';
import { createStateStore, type Identity, type NodeRecord } from '../state/state-store.js';
import { readBootId } from '../system/boot-id.js';
import { createExec } from '../system/exec.js';
import { createStatusDisplay } from '../ui/status-display.js';
import { statusHeadline } from '../ui/status-screen.js';
import { startUsageMeter } from '../usage/usage-meter.js';
import { createUsageSpool } from '../usage/usage-spool.js';
import { type AgentLog, type LogLevel, createAgentLog } from './agent-log.js';
import { dial, signConnectionToken, signNodeToken } from './dial.js';
import { createJoinRunner } from './join-runner.js';
import { createProgressNotes } from './progress-notes.js';
import { createLiveStatusRecorder } from './live-status.js';
import { startHardwareWatch } from './hardware-watch.js';
import { ReconnectBackoff } from './reconnect.js';
import { ControlSession, type SessionEnd } from './session.js';
import { preflightText } from './preflight-text.js';
import { AGENT_VERSION } from '../version.js';
import { createAgentUpdates } from '../update/agent-update.js';

const REFUSED_CODES = new Set(['NODE_REVOKED', 'NODE_REJECTED']);

export async function runDaemon(ctx: AgentContext, node: NodeRecord, identity: Identity): Promise<number> {
  const { config } = ctx;
  const d = config.daemon;
  const serverUrl = config.serverUrl ?? node.serverUrl;
  // The URL recorded at enrollment obeys the same rule as a configured one (plain http only to
  // this machine, or where explicitly allowed).
  const insecureHttp =
    config.serverUrl === undefined
      ? requireServerUrl(serverUrl, config.allowInsecureHttp, config.serverPin)
      : config.insecureHttp;
  // Take over SIGTERM/SIGINT first: from here on a stop is a clean one (bye when connected).
  let stopRequested: ((signal: string) => void) | undefined;
  let stopping = false;
  const stopped = new Promise<string>((resolve) => (stopRequested = resolve));
  const abort = new AbortController();
  const unregister = ctx.onStop((signal) => {
    stopping = true;
    abort.abort();
    stopRequested?.(signal);
  });
  const exec = createExec();
  const log: AgentLog = createAgentLog(d.paths.logFile, ctx.now);
  const display = createStatusDisplay(ctx.out, ctx.style, ctx.now, {
    nodeId: node.nodeId,
    serverUrl,
    insecureHttp,
    status: 'unknown',
    connection: 'connecting',
    spooled: 0,
    shells: 0,
    shellEnabled: d.remoteShell,
    logFile: d.paths.logFile,
    events: [],
  });
  const note = (level: LogLevel, event: string, message: string) => {
    log.write(level, event, message);
    display.event(message);
  };
  const spool = createUsageSpool(d.paths.spoolDir);
  const bootId = await readBootId();
  let joined = await loadJoinState(config.stateDir);
  display.update({ nodeName: joined?.nodeName, spooled: (await spool.pending()).reports.length });
  let policy: Policy = { ...DEFAULT_POLICY };
  const lastAudit = await loadAuditRecord(config.stateDir);
  if (lastAudit) display.update({ audit: lastAudit });

  let session: ControlSession | undefined;
  const factsPath = ctx.args.facts;
  const hardware = await startHardwareWatch({
    runProgram: ctx.runProgram,
    identity,
    nodeId: node.nodeId,
    now: ctx.now,
    intervalMs: d.intervals.hardwareProbeMs,
    // `run --facts FILE`: the recorded machine throughout, as enrolled (never this one's probe).
    ...(factsPath ? { readHardware: async () => (await loadFactsFile(factsPath)).hardware } : {}),
    note,
    onChange: (messages) => {
      for (const m of messages) session?.send(m);
    },
  });

  const refreshSpoolCount = async () => display.update({ spooled: (await spool.pending()).reports.length });
  const meter = startUsageMeter({
    nodeId: node.nodeId,
    identity,
    exec,
    spool,
    now: ctx.now,
    sampleMs: d.intervals.usageSampleMs,
    reportMs: d.intervals.usageReportMs,
    nodeName: () => joined?.nodeName,
    onReport: (entry) => {
      session?.send({ type: 'usage', seq: entry.seq, report: entry.report });
      void refreshSpoolCount();
    },
    log: (level, event, message) => log.write(level, event, message),
  });

  const live = createLiveStatusRecorder(createStateStore(config.stateDir), node.nodeId, ctx.now, (m) =>
    note('warn', 'live_status_unsaved', m),
  );
  const showStatus = (status: NodeStatus, reason: string | null | undefined, welcome: boolean) => {
    const before = display.view.status;
    display.update({ status, reason: reason ?? null });
    live.record(status, reason);
    if (welcome || before !== status) {
      note(
        'info',
        'node_status',
        `Status: ${status}${reason ? ` (${reason})` : ''}. ${statusHeadline({ status })}.`,
      );
    }
  };

  const audits = createDaemonAudits({
    stateDir: config.stateDir,
    exec,
    server: { url: serverUrl, serverPin: config.serverPin },
    nodeId: node.nodeId,
    identity,
    policy: () => policy,
    now: ctx.now,
    sleep: ctx.sleep,
    send: (message) => {
      if (!session?.open) return false;
      session.send(message);
      return true;
    },
    onRecord: (record) => display.update({ audit: record }),
    log: note,
  });

  const hooks = (): ConstructorParameters<typeof ControlSession>[1] => ({
    hello: () => ({
      type: 'hello',
      agentVersion: AGENT_VERSION,
      bootId,
      hardwareDigest: hardware.digest() || 'unknown',
      shellEnabled: d.remoteShell,
    }),
    opening: async () => {
      const { reports, damaged } = await spool.pending();
      for (const name of damaged)
        note('warn', 'usage_spool_damaged', `Spooled report ${name} is damaged; skipped.`);
      if (reports.length)
        note('info', 'usage_resend', `Sending ${reports.length} usage report(s) not yet acknowledged.`);
      return [
        ...(await hardware.snapshot()),
        ...reports.map((r): AgentMessage => ({ type: 'usage', seq: r.seq, report: r.report })),
        ...(await audits.opening()),
      ];
    },
    heartbeat: async (seq) => {
      const metrics = await collectMetrics(exec);
      display.update({ metrics });
      return { type: 'heartbeat', seq, metrics };
    },
    heartbeatMs: d.intervals.heartbeatMs,
    healthyAfterMs: d.intervals.healthyAfterMs,
    now: ctx.now,
    onStatus: (status, reason, welcome) => {
      showStatus(status, reason, welcome);
      if (welcome && status !== 'rejected' && status !== 'revoked') void updates.welcomed();
    },
    onUpdate: (update) => updates.update(update),
    onJoin: (join) => joins.run(join),
    onAck: async (seq) => {
      await spool.ack(seq);
      log.write('info', 'usage_acked', `Usage report ${seq} acknowledged.`);
      await refreshSpoolCount();
    },
    onCommand: async (command) => {
      note('info', 'command', `Command from ops: ${command.name}.`);
      if (command.name === 'leave-cluster') {
        const outcome = await runNodeCommand(command.name, command.args, commandDeps);
        joined = await loadJoinState(config.stateDir);
        display.update({ nodeName: joined?.nodeName });
        return outcome;
      }
      return runNodeCommand(command.name, command.args, commandDeps);
    },
    afterCommand: async (then, current) => {
      if (then === 'restart-agent') {
        note('info', 'restart', 'Restarting the agent, as ops asked.');
        await current.stop('restart-agent', EXIT.RESTART);
        return;
      }
      note('info', 'reboot', 'Rebooting this machine, as ops asked.');
      const result = await exec('systemctl', ['reboot'], { timeoutMs: 30_000 });
      if (!result.ok) note('error', 'reboot_failed', `The reboot failed: ${result.problem}`);
    },
    log: note,
    onPolicy: (next) => (policy = next),
    onAudit: (request) => audits.request(request),
    onServerError: async (code, message, seq) => {
      note('warn', 'server_error', `The server refused a message (${code}): ${message}`);
      // A report refused for good would be refused again on every reconnect: drop it.
      if (seq === undefined || !USAGE_FINAL_CODES.includes(code)) return;
      await spool.ack(seq);
      note(
        'warn',
        'usage_dropped',
        `Usage report ${seq} was refused by the server and will not be sent again.`,
      );
      await refreshSpoolCount();
    },
    shells: (send) =>
      new RemoteShells({
        enabled: d.remoteShell,
        command: d.shellCommand,
        env: ctx.shellEnv,
        cwd: ctx.shellEnv.HOME ?? '/',
        send: (m) => {
          send(m);
          if (m.type === 'shell-close')
            queueMicrotask(() => display.update({ shells: session?.shellCount ?? 0 }));
        },
        log: (event, message) => {
          note('info', event, message);
          display.update({ shells: session?.shellCount ?? 0 });
        },
      }),
  });
  const progress = createProgressNotes((message) => note('info', 'download_progress', message));
  const applyOne = async (join: JoinMessage) => {
    note(
      'info',
      'join_started',
      `Joining the cluster as ${join.cluster.nodeName} (${join.network.address}).`,
    );
    const outcome = await applyJoin(join, {
      exec,
      config: d,
      stateDir: config.stateDir,
      now: ctx.now,
      log: (event, message) => note('info', event, message),
      fetch: {
        serverUrl,
        serverPin: config.serverPin,
        nodeToken: () => signNodeToken(identity, node.nodeId, ctx.now(), ARTIFACT_AUDIENCE),
        onProgress: progress,
        retryDelayMs: d.intervals.downloadRetryMs,
      },
    });
    if (!outcome.ok) {
      note('error', 'join_failed', `Joining the cluster failed: ${outcome.error}`);
      return outcome;
    }
    joined = await loadJoinState(config.stateDir);
    display.update({ nodeName: joined?.nodeName });
    note('info', 'join_done', `Joined the cluster${outcome.changed ? '' : ' (already set up; checked)'}.`);
    return outcome;
  };
  const joins = createJoinRunner({
    apply: applyOne,
    send: (message) => session?.send(message) ?? false,
    note,
    minMs: d.intervals.joinRetryMinMs,
    maxMs: d.intervals.joinRetryMaxMs,
    random: ctx.random,
  });
  const updates = createAgentUpdates({
    releaseRoot: process.env.HOMENODE_RELEASE_ROOT,
    startId: process.env.HOMENODE_START_ID,
    version: AGENT_VERSION,
    releaseKey: d.releaseKey,
    downloadDir: d.paths.downloadDir,
    fetch: {
      serverUrl,
      serverPin: config.serverPin,
      nodeToken: () => signNodeToken(identity, node.nodeId, ctx.now(), ARTIFACT_AUDIENCE),
      onProgress: progress,
      retryDelayMs: d.intervals.downloadRetryMs,
    },
    now: ctx.now,
    send: (message) => {
      if (!session?.open) return false;
      session.send(message);
      return true;
    },
    note,
    restart: async () => {
      await session?.stop('update', EXIT.RESTART);
    },
  });
  const commandDeps = {
    exec,
    stateDir: config.stateDir,
    logFile: d.paths.logFile,
    preflight: () => preflightText(ctx),
  };

  const backoff = new ReconnectBackoff(
    { minMs: d.intervals.reconnectMinMs, maxMs: d.intervals.reconnectMaxMs },
    ctx.random,
  );
  const finish = async (code: number) => {
    joins.stop();
    hardware.stop();
    unregister();
    await meter.stop();
    await live.flush();
    display.update({ connection: 'stopped' });
    display.close();
    await log.flush();
    return code;
  };

  note(
    'info',
    'daemon_start',
    `Home Node agent ${AGENT_VERSION} started for node ${node.nodeId} (${serverUrl}).`,
  );
  if (insecureHttp)
    note(
      'warn',
      'insecure_http',
      `${serverUrl} is reached over plain http (allowInsecureHttp): not encrypted.`,
    );
  for (;;) {
    if (stopping) return finish(EXIT.OK);
    display.update({ connection: 'connecting' });
    const token = await signConnectionToken(identity, node.nodeId, ctx.now());
    const dialed = await dial(serverUrl, token, {
      timeoutMs: 15_000,
      serverPin: config.serverPin,
      signal: abort.signal,
    });
    let problem: string;
    if (stopping && dialed.kind === 'open') dialed.socket.terminate();
    if (stopping) return finish(EXIT.OK);
    if (dialed.kind === 'open') {
      const current = new ControlSession(dialed.socket, hooks(), dialed.early);
      session = current;
      display.update({ connection: 'connected', lastProblem: undefined });
      note('info', 'control_connected', 'Connected to the server.');
      void stopped.then(() => current.stop('agent stopping', EXIT.OK));
      await current.start().catch((error: unknown) => note('warn', 'control_start_failed', String(error)));
      const end: SessionEnd = await current.done;
      session = undefined;
      display.update({ shells: 0 });
      if (end.kind === 'exit') {
        note('info', 'control_bye', 'Said goodbye to the server.');
        return finish(end.code);
      }
      if (end.kind === 'refused') {
        showStatus(end.status, end.reason, false);
        note(
          'error',
          'node_refused',
          `The server no longer accepts this machine (${end.status}): ${end.reason}. The agent stops.`,
        );
        return finish(EXIT.NODE_REFUSED);
      }
      if (end.healthy) backoff.reset();
      problem = `the connection closed (${end.code}${end.reason ? `: ${end.reason}` : ''})`;
    } else if (dialed.kind === 'refused') {
      if (dialed.status === 403 && REFUSED_CODES.has(dialed.code)) {
        const status = dialed.code === 'NODE_REVOKED' ? 'revoked' : 'rejected';
        showStatus(status, dialed.message, false);
        note('error', 'node_refused', `${dialed.message} (${dialed.code}). The agent stops.`);
        return finish(EXIT.NODE_REFUSED);
      }
      problem = `the server refused the connection (${dialed.status} ${dialed.code}): ${dialed.message}`;
    } else {
      problem = dialed.message;
    }
    if (stopping) return finish(EXIT.OK);
    // A server that says when to come back (429, 503) is not asked sooner.
    const delay = backoff.next(
      dialed.kind === 'unreachable' && dialed.nobodyListening === true,
      dialed.kind === 'refused' ? dialed.retryAfterSeconds : 0,
    );
    display.update({ connection: 'waiting', retryAt: ctx.now() + delay, lastProblem: problem });
    note(
      'warn',
      'control_reconnect',
      `Not connected: ${problem}. Trying again in ${(delay / 1000).toFixed(1)} s (attempt ${backoff.attempt}).`,
    );
    const woke = await Promise.race([ctx.sleep(delay).then(() => 'timer'), stopped]);
    if (woke !== 'timer') return finish(EXIT.OK);
  }
}
