import { describe, expect, it } from 'vitest';
import { inStage, nodeBucket, stagesProblem } from '../../enroll-server/rollouts/rollout-rules.js';

describe('rollout stages', () => {
  it('takes about the stage percentage of nodes, the same nodes every time, growing with the stage', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `node_${i.toString(36)}x${(i * 7919).toString(36)}`);
    const five = ids.filter((id) => inStage(id, { percent: 5, soakMinutes: 0 }));
    const fifty = ids.filter((id) => inStage(id, { percent: 50, soakMinutes: 0 }));
    expect(five.length).toBeGreaterThan(400);
    expect(five.length).toBeLessThan(600);
    expect(fifty.length).toBeGreaterThan(4800);
    expect(fifty.length).toBeLessThan(5200);
    expect(five.every((id) => fifty.includes(id))).toBe(true);
    expect(ids.every((id) => inStage(id, { percent: 100, soakMinutes: 0 }))).toBe(true);
    expect(nodeBucket('node_a')).toBe(nodeBucket('node_a'));
  });

  it('says what is wrong with stages that do not grow', () => {
    expect(
      stagesProblem([
        { percent: 1, soakMinutes: 0 },
        { percent: 100, soakMinutes: 0 },
      ]),
    ).toBeUndefined();
    expect(stagesProblem([])).toBe('a rollout needs at least one stage');
    expect(
      stagesProblem([
        { percent: 10, soakMinutes: 0 },
        { percent: 10, soakMinutes: 0 },
      ]),
    ).toBe('stage 2 (10 %) must take more nodes than stage 1 (10 %)');
  });
});
