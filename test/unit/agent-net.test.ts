/** Backoff, Retry-After and what an answer to GET /v1/policy says about the network. */
import { describe, expect, it } from 'vitest';
import { MAX_RETRY_AFTER_MS, backoffDelay, parseRetryAfter } from '../../agent/enroll/backoff.js';
import { classifyPolicyAnswer, clockSkewSeconds, parsePolicy } from '../../agent/probe/connectivity.js';
import { DEFAULT_POLICY } from '../../protocol/policy.js';

const SERVER = 'https://enroll.homenode.example';

describe('backoff', () => {
  it('doubles from the base, stays within half to all of the ceiling, and is capped', () => {
    const options = { baseMs: 1000, capMs: 60_000 };
    expect(backoffDelay(1, () => 0, options)).toBe(500);
    expect(backoffDelay(1, () => 0.999_999, options)).toBe(1000);
    expect(backoffDelay(3, () => 0, options)).toBe(2000);
    expect(backoffDelay(3, () => 1, options)).toBe(4000);
    expect(backoffDelay(20, () => 1, options)).toBe(60_000);
    expect(backoffDelay(20, () => 0, options)).toBe(30_000);
  });

  it('spreads nodes out (jitter) rather than retrying in lockstep', () => {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(5, random)));
    expect(delays.size).toBeGreaterThan(40);
  });

  it('reads Retry-After as seconds or as an HTTP date, and caps it', () => {
    const now = Date.parse('2026-11-02T09:00:00Z');
    expect(parseRetryAfter('7', now)).toBe(7000);
    expect(parseRetryAfter('Mon, 02 Nov 2026 09:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 02 Nov 2026 08:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('86400', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});

describe('GET /v1/policy answers', () => {
  const json = { 'content-type': 'application/json; charset=utf-8' };

  it('takes the policy and the server time from our server', () => {
    const text = JSON.stringify({
      policy: { ...DEFAULT_POLICY, minCores: 8 },
      serverTime: '2026-11-02T09:00:00.000Z',
    });
    const answer = classifyPolicyAnswer({ status: 200, headers: json, text }, SERVER);
    expect(answer).toMatchObject({ kind: 'policy', serverTimeMs: Date.parse('2026-11-02T09:00:00Z') });
    expect(answer.kind === 'policy' && answer.policy.minCores).toBe(8);
  });

  it('falls back to the Date header when serverTime is unreadable', () => {
    const text = JSON.stringify({ policy: DEFAULT_POLICY, serverTime: 'garbage' });
    const headers = { ...json, date: 'Mon, 02 Nov 2026 09:00:00 GMT' };
    expect(classifyPolicyAnswer({ status: 200, headers, text }, SERVER)).toMatchObject({
      serverTimeMs: Date.parse('2026-11-02T09:00:00Z'),
    });
  });

  it('detects a captive portal by its redirect and names where it sends people', () => {
    const answer = classifyPolicyAnswer(
      { status: 302, headers: { location: 'http://login.hotel-wifi.example/portal?x=1' }, text: '' },
      SERVER,
    );
    expect(answer).toEqual({ kind: 'portal', location: 'http://login.hotel-wifi.example/portal?x=1' });
  });

  it('detects a captive portal that answers with its own page, named by its title', () => {
    const text = '<html><head><title>Welcome to CafeNet</title></head><body>Sign in</body></html>';
    const answer = classifyPolicyAnswer(
      { status: 200, headers: { 'content-type': 'text/html' }, text },
      SERVER,
    );
    expect(answer).toEqual({ kind: 'portal', location: 'Welcome to CafeNet' });
  });

  it('reports a server error as an error, not a portal', () => {
    expect(classifyPolicyAnswer({ status: 503, headers: json, text: '{}' }, SERVER)).toMatchObject({
      kind: 'error',
    });
  });

  it('ignores policy fields this agent does not know and refuses a broken policy', () => {
    expect(parsePolicy({ ...DEFAULT_POLICY, futureKnob: true })).toEqual(DEFAULT_POLICY);
    expect(parsePolicy({ ...DEFAULT_POLICY, minCores: 'four' })).toBeUndefined();
  });

  it('measures skew against the middle of the request (positive: our clock is behind)', () => {
    expect(clockSkewSeconds(10_000, 0, 2_000)).toBe(9);
    expect(clockSkewSeconds(0, 120_000, 120_000)).toBe(-120);
  });
});
