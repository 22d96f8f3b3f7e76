/**
 * The guard outside the agent process (docs/updates.md): starts the release `current` names and,
 * while an update is pending, watches for the health marker the new agent writes once its hello is
 * welcomed. When the marker does not come within the deadline (the agent hangs, or cannot reach the
 * server), or the new release exits `maxStarts` times, it records why (durably, before anything
 * else), switches `current` back to the previous release and starts that. The previous release is
 * never touched, and a version that rolled back is never started again: no endless loop on a bad
 * release. On the ISO systemd runs this supervisor; tests run it as a plain process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RELEASE_ENTRY } from '../../protocol/update.js';
import {
  type ReleaseLayout,
  type UpdateStateFile,
  currentVersion,
  pruneReleases,
  readUpdateState,
  switchCurrent,
  writeUpdateState,
} from './release-layout.js';

/** The agent's exit codes the supervisor treats specially (agent/cli/context.ts EXIT). */
const EXIT_NODE_REFUSED = 7;
const EXIT_RESTART = 75;

export interface SupervisorOptions {
  layout: ReleaseLayout;
  /** The Node.js binary to run releases with. */
  node: string;
  /** Arguments after the entry point (`run`). */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Starts of a new release before it counts as crashing at start (default 3). */
  maxStarts?: number;
  restartDelayMs?: number;
  pollMs?: number;
  keepOld?: number;
  now?: () => number;
  log: (line: string) => void;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
}

// Not unref(): between two starts the timer is what keeps the supervisor alive.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class Supervisor {
  private child: ChildProcess | undefined;
  private stopping = false;
  private readonly maxStarts: number;
  private readonly now: () => number;

  constructor(private readonly o: SupervisorOptions) {
    this.maxStarts = o.maxStarts ?? 3;
    this.now = o.now ?? Date.now;
  }

  /** Asks the running agent to stop (SIGTERM) and ends the loop with its exit code. */
  stop(signal: NodeJS.Signals = 'SIGTERM'): void {
    this.stopping = true;
    this.child?.kill(signal);
  }

  async run(): Promise<number> {
    const { layout, log } = this.o;
    for (;;) {
      const state = await readUpdateState(layout);
      const version = await currentVersion(layout);
      if (!version) {
        log(`No release to start: ${layout.current} does not name one. Install a release there.`);
        return 1;
      }
      const pending = state.pending;
      if (pending && pending.version !== version) {
        await this.settle(state, {
          state: 'failed',
          error: `The switch to ${pending.version} did not complete; the node stays on ${version}.`,
        });
        continue;
      }
      if (pending && this.now() >= pending.deadlineAt) {
        await this.rollBack(state, this.lateReason(pending.startedAt, pending.deadlineAt, undefined));
        continue;
      }
      if (pending && pending.starts >= this.maxStarts) {
        await this.rollBack(state, `agent ${version} did not stay up: started ${pending.starts} times.`);
        continue;
      }
      if (pending) {
        pending.starts += 1;
        await writeUpdateState(layout, state);
      }
      const startId = randomBytes(8).toString('hex');
      log(
        `Starting agent ${version}${pending ? ` (new release, try ${pending.starts} of ${this.maxStarts})` : ''}.`,
      );
      const exited = this.start(version, startId);
      if (!pending) {
        const exit = await exited;
        if (this.stopping) return exit.code ?? 0;
        if (exit.code === EXIT_NODE_REFUSED) return EXIT_NODE_REFUSED;
        if (exit.code === EXIT_RESTART) continue;
        log(`Agent ${version} exited (${describe(exit)}); starting it again.`);
        await sleep(this.o.restartDelayMs ?? 3000);
        continue;
      }
      const outcome = await this.watch(version, startId, pending.deadlineAt, exited);
      if (this.stopping) return outcome.kind === 'exited' ? (outcome.exit.code ?? 0) : 0;
      if (outcome.kind === 'healthy') {
        const next = await readUpdateState(layout);
        await this.settle(next, { state: 'healthy' });
        const removed = await pruneReleases(layout, [version, pending.previous], this.o.keepOld);
        log(
          `Agent ${version} is healthy; ${pending.previous} is kept to roll back to.${removed.length ? ` Removed old releases: ${removed.join(', ')}.` : ''}`,
        );
        const exit = await exited;
        if (this.stopping) return exit.code ?? 0;
        if (exit.code === EXIT_NODE_REFUSED) return EXIT_NODE_REFUSED;
        if (exit.code !== EXIT_RESTART) await sleep(this.o.restartDelayMs ?? 3000);
        continue;
      }
      if (outcome.kind === 'late') {
        await this.rollBack(
          await readUpdateState(layout),
          this.lateReason(pending.startedAt, pending.deadlineAt, outcome.exit),
        );
        continue;
      }
      const after = await readUpdateState(layout);
      const starts = after.pending?.starts ?? pending.starts;
      if (starts >= this.maxStarts) {
        await this.rollBack(
          after,
          `agent ${version} exited at start ${starts} times (last: ${describe(outcome.exit)}).${tail(outcome.exit)}`,
        );
        continue;
      }
      log(`New agent ${version} exited (${describe(outcome.exit)}); trying again.`);
      await sleep(this.o.restartDelayMs ?? 3000);
    }
  }

  private lateReason(startedAt: number, deadlineAt: number, exit: Exit | undefined): string {
    const seconds = Math.round((deadlineAt - startedAt) / 1000);
    return (
      `the new agent was not welcomed by the server within ${seconds} s (it hung before hello, or could ` +
      `not reach the server).${exit ? tail(exit) : ''}`
    );
  }

  private start(version: string, startId: string): Promise<Exit> {
    const entry = join(this.o.layout.releases, version, RELEASE_ENTRY);
    const child = spawn(this.o.node, [entry, ...this.o.args], {
      env: { ...this.o.env, HOMENODE_RELEASE_ROOT: this.o.layout.root, HOMENODE_START_ID: startId },
      stdio: ['ignore', 'inherit', 'pipe'],
    });
    this.child = child;
    let stderrTail = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
    });
    return new Promise((resolve) => {
      child.on('error', (error) => {
        stderrTail += `\n${error.message}`;
      });
      child.on('close', (code, signal) => {
        if (this.child === child) this.child = undefined;
        resolve({ code, signal, stderrTail });
      });
    });
  }

  private async watch(
    version: string,
    startId: string,
    deadlineAt: number,
    exited: Promise<Exit>,
  ): Promise<{ kind: 'healthy' } | { kind: 'exited'; exit: Exit } | { kind: 'late'; exit: Exit }> {
    let exit: Exit | undefined;
    void exited.then((e) => (exit = e));
    const marker = `${version} ${startId}`;
    for (;;) {
      const text = await readFile(this.o.layout.healthFile, 'utf8').catch(() => '');
      if (text.trim() === marker) return { kind: 'healthy' };
      if (exit) return { kind: 'exited', exit };
      if (this.stopping) return { kind: 'exited', exit: await exited };
      if (this.now() >= deadlineAt) {
        this.o.log(`Agent ${version} was not healthy by its deadline; stopping it.`);
        this.child?.kill('SIGTERM');
        const killer = setTimeout(() => this.child?.kill('SIGKILL'), 5000);
        const late = await exited;
        clearTimeout(killer);
        return { kind: 'late', exit: late };
      }
      await sleep(this.o.pollMs ?? 250);
    }
  }

  private async settle(state: UpdateStateFile, result: { state: 'healthy' | 'failed'; error?: string }) {
    const pending = state.pending;
    if (!pending) return;
    const next: UpdateStateFile = {
      rolledBack: state.rolledBack,
      outcome: {
        rolloutId: pending.rolloutId,
        version: pending.version,
        state: result.state,
        ...(result.error ? { error: result.error } : {}),
        at: this.now(),
      },
    };
    await writeUpdateState(this.o.layout, next);
  }

  /** The reason first, durably; then the switch back. */
  private async rollBack(state: UpdateStateFile, reason: string): Promise<void> {
    const pending = state.pending;
    if (!pending) return;
    const error = reason.slice(0, 4000);
    this.o.log(`Rolling back from ${pending.version} to ${pending.previous}: ${error}`);
    await writeUpdateState(this.o.layout, {
      rolledBack: [...state.rolledBack.filter((v) => v !== pending.version), pending.version].slice(-1000),
      outcome: {
        rolloutId: pending.rolloutId,
        version: pending.version,
        state: 'rolled-back',
        error,
        at: this.now(),
      },
    });
    await switchCurrent(this.o.layout, pending.previous);
  }
}

function describe(exit: Exit): string {
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code ?? 'unknown'}`;
}

function tail(exit: Exit): string {
  const lines = exit.stderrTail.trim().split('\n').slice(-3).join(' | ').trim();
  return lines ? ` Its last output: ${lines.slice(-1500)}` : '';
}
