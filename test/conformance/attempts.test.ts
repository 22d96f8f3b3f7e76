/**
 * Failed-attempt counts in the database (sign-in, enrollment keys, reset links), on both engines:
 * a window holds at most its limit, however many attempts race, from however many processes; a
 * refund gives one back; an expired window starts again; two stores on one database (two
 * replicas) count together.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SharedFailureLimiter } from '../../enroll-server/core/failure-limiter.js';
import { ENGINES, type OpenEngine, openEngine } from '../helpers/engines.js';
import { MINUTE, T0 } from './fixtures.js';

describe.each(ENGINES)('failed attempts on %s', (engine) => {
  const open: OpenEngine[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((e) => e.close()));
  });
  async function setup() {
    const e = await openEngine(engine);
    open.push(e);
    return e;
  }

  it('counts up to the limit per window, then says until when; an expired window starts again', async () => {
    const { repos } = await setup();
    for (let i = 0; i < 3; i++)
      expect(await repos.attempts.take('k', 3, 15 * MINUTE, T0 + i)).toEqual({
        counted: true,
        resetAt: T0 + 15 * MINUTE,
      });
    expect(await repos.attempts.take('k', 3, 15 * MINUTE, T0 + 5 * MINUTE)).toEqual({
      counted: false,
      resetAt: T0 + 15 * MINUTE,
    });
    expect(await repos.attempts.blockedUntil('k', 3, T0 + 5 * MINUTE)).toBe(T0 + 15 * MINUTE);
    expect(await repos.attempts.blockedUntil('other', 3, T0 + 5 * MINUTE)).toBeNull();
    // One given back (a right password after all): one more may try in the same window.
    await repos.attempts.giveBack('k', T0 + 15 * MINUTE);
    expect(await repos.attempts.blockedUntil('k', 3, T0 + 5 * MINUTE)).toBeNull();
    expect((await repos.attempts.take('k', 3, 15 * MINUTE, T0 + 6 * MINUTE)).counted).toBe(true);
    // A refund for a window that has since been replaced changes nothing.
    expect(await repos.attempts.take('k', 3, 15 * MINUTE, T0 + 15 * MINUTE)).toEqual({
      counted: true,
      resetAt: T0 + 30 * MINUTE,
    });
    await repos.attempts.giveBack('k', T0 + 15 * MINUTE);
    await repos.attempts.take('k', 3, 15 * MINUTE, T0 + 16 * MINUTE);
    await repos.attempts.take('k', 3, 15 * MINUTE, T0 + 16 * MINUTE);
    expect(await repos.attempts.blockedUntil('k', 3, T0 + 16 * MINUTE)).toBe(T0 + 30 * MINUTE);
    expect(await repos.attempts.prune(T0 + 30 * MINUTE)).toBe(1);
    expect(await repos.attempts.blockedUntil('k', 3, T0 + 16 * MINUTE)).toBeNull();
  });

  it('two replicas on one database share the allowance, even racing: exactly the limit is counted', async () => {
    const e = await setup();
    const other = await e.openAnother();
    const now = () => T0;
    const options = { scope: 'sign-in-address', windowMs: 15 * MINUTE, limit: 10, now, onError: () => {} };
    const here = new SharedFailureLimiter(e.repos.attempts, options);
    const there = new SharedFailureLimiter(other.repos.attempts, options);
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? here : there).reserve('203.0.113.7')),
    );
    expect(answers.filter((a) => 'refund' in a)).toHaveLength(10);
    expect(answers.filter((a) => 'retryAfterSeconds' in a)).toHaveLength(30);
    expect(await here.retryAfterSeconds('203.0.113.7')).toBe(900);
    expect(await there.retryAfterSeconds('203.0.113.8')).toBe(0);
    // A refund on one replica frees a try on the other, once.
    const first = answers.find((a) => 'refund' in a);
    if (!first || !('refund' in first)) throw new Error('no reservation');
    await first.refund();
    await first.refund();
    expect(await there.retryAfterSeconds('203.0.113.7')).toBe(0);
    expect('refund' in (await there.reserve('203.0.113.7'))).toBe(true);
    expect('retryAfterSeconds' in (await here.reserve('203.0.113.7'))).toBe(true);
    // Scopes are separate counts.
    const enroll = new SharedFailureLimiter(e.repos.attempts, { ...options, scope: 'enroll-address' });
    expect(await enroll.retryAfterSeconds('203.0.113.7')).toBe(0);
  });
});
