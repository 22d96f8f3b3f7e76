import { describe, expect, it } from 'vitest';
import { countUpMinutes, mergeSpans, upSeconds, uptimeFraction } from '../../enroll-server/core/uptime.js';

const T0 = Date.parse('2026-11-02T00:00:00Z');
const MIN = 60_000;
const at = (minutes: number, seconds = 0) => T0 + minutes * MIN + seconds * 1000;

describe('uptime arithmetic', () => {
  it('merges overlapping sessions and counts each minute once', () => {
    const spans = [
      { start: at(0, 10), end: at(2, 30) },
      { start: at(1), end: at(3) }, // overlaps the first
      { start: at(10, 59), end: at(11, 1) }, // touches minutes 10 and 11
    ];
    expect(mergeSpans(spans)).toEqual([
      { start: at(0, 10), end: at(3) },
      { start: at(10, 59), end: at(11, 1) },
    ]);
    // Minutes 0, 1, 2 (ends exactly at 3:00, so not 3), 10 and 11.
    expect(countUpMinutes(spans, at(0), at(60))).toBe(5);
    expect(uptimeFraction(spans, at(0), at(60))).toBeCloseTo(5 / 60);
    expect(upSeconds(spans)).toBe(170 + 2);
  });

  it('clips to the window and counts missing data as down', () => {
    expect(countUpMinutes([{ start: at(-30), end: at(5, 30) }], at(0), at(10))).toBe(6);
    expect(uptimeFraction([], at(0), at(1440))).toBe(0);
    expect(uptimeFraction([{ start: at(-10), end: at(2000) }], at(0), at(1440))).toBe(1);
  });

  it('counts a session shorter than a minute, even an instant', () => {
    expect(countUpMinutes([{ start: at(5, 20), end: at(5, 20) }], at(0), at(10))).toBe(1);
    expect(
      countUpMinutes(
        [
          { start: at(5, 20), end: at(5, 40) },
          { start: at(5, 50), end: at(5, 55) },
        ],
        at(0),
        at(10),
      ),
    ).toBe(1);
  });
});
