import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJoinRunner, joinRetryDelay } from '../../agent/control/join-runner.js';
import { createProgressNotes } from '../../agent/control/progress-notes.js';
import type { AgentMessage, JoinMessage } from '../../protocol/control.js';
import type { JoinOutcome } from '../../agent/join/apply-join.js';

afterEach(() => {
  vi.useRealTimers();
});

// The runner only passes the join through; its fields do not matter here.
const join = (name: string) => ({ type: 'join', cluster: { nodeName: name } }) as JoinMessage;
const refused: JoinOutcome = { ok: false, error: 'k3s v1 was refused', failure: 'artifact' };
const done: JoinOutcome = {
  ok: true,
  wireguardPublicKey: 'HIgo9xNzJMWLKASShiTqIybxZ0U3wGLiUeJ1PKf8ykw=',
  changed: true,
};

describe('join retry delay', () => {
  it('doubles from the minimum up to the maximum, with at least half of each step kept', () => {
    const low = (n: number) => joinRetryDelay(n, () => 0, 30_000, 900_000);
    const high = (n: number) => joinRetryDelay(n, () => 1, 30_000, 900_000);
    expect([1, 2, 3, 4].map(low)).toEqual([15_000, 30_000, 60_000, 120_000]);
    expect([1, 2, 3, 4].map(high)).toEqual([30_000, 60_000, 120_000, 240_000]);
    expect(high(50)).toBe(900_000);
    expect(low(50)).toBe(450_000);
  });
});

describe('the join runner', () => {
  function runner(outcomes: JoinOutcome[]) {
    const applied: string[] = [];
    const sent: AgentMessage[] = [];
    const notes: string[] = [];
    const r = createJoinRunner({
      apply: (j) => {
        applied.push(j.cluster.nodeName);
        return Promise.resolve(outcomes.shift() ?? done);
      },
      send: (m) => (sent.push(m), true),
      note: (_level, _event, message) => notes.push(message),
      minMs: 1_000,
      maxMs: 8_000,
      random: () => 1,
    });
    return { r, applied, sent, notes };
  }

  it('answers the first try, then retries a refused join with backoff and reports each result', async () => {
    vi.useFakeTimers();
    const { r, applied, sent, notes } = runner([refused, refused]);
    expect(await r.run(join('a'))).toEqual({
      type: 'join-result',
      ok: false,
      error: 'k3s v1 was refused',
      failure: 'artifact',
    });
    expect(notes).toEqual(['Trying the join again in 1.0 s (attempt 2).']);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(applied).toEqual(['a', 'a']);
    expect(sent).toEqual([expect.objectContaining({ ok: false, failure: 'artifact' })]);
    expect(notes.at(-1)).toBe('Trying the join again in 2.0 s (attempt 3).');
    await vi.advanceTimersByTimeAsync(2_000);
    expect(applied).toEqual(['a', 'a', 'a']);
    expect(sent.at(-1)).toEqual(expect.objectContaining({ ok: true }));
    // Joined: no more tries.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(applied).toHaveLength(3);
  });

  it('drops the retry of an old join when the server sends a new one, and stops on stop()', async () => {
    vi.useFakeTimers();
    const { r, applied } = runner([refused, refused]);
    await r.run(join('old'));
    await r.run(join('new'));
    // Failures count across joins (a server resends the join on every reconnect): the second waits 2 s.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(applied).toEqual(['old', 'new', 'new']);
    r.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(applied).toEqual(['old', 'new', 'new']);
  });
});

describe('download progress notes', () => {
  it('says when a download starts or resumes, then each quarter once', () => {
    const lines: string[] = [];
    const progress = createProgressNotes((l) => lines.push(l));
    progress('k3s v1.31.4+k3s1', 0, 70_000_000, 'start');
    for (let r = 5_000_000; r <= 40_000_000; r += 5_000_000)
      progress('k3s v1.31.4+k3s1', r, 70_000_000, 'data');
    progress('k3s v1.31.4+k3s1', 40_000_000, 70_000_000, 'start');
    progress('k3s v1.31.4+k3s1', 70_000_000, 70_000_000, 'data');
    expect(lines).toEqual([
      'Downloading k3s v1.31.4+k3s1 (70.0 MB).',
      'Downloading k3s v1.31.4+k3s1: 25% (20.0 MB of 70.0 MB).',
      'Downloading k3s v1.31.4+k3s1: 50% (35.0 MB of 70.0 MB).',
      'Resuming the download of k3s v1.31.4+k3s1 at 40.0 MB of 70.0 MB.',
      'Downloaded k3s v1.31.4+k3s1 (70.0 MB).',
    ]);
  });
});
