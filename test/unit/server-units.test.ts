import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, loadPolicyFile } from '../../enroll-server/core/config.js';
import { FailureLimiter } from '../../enroll-server/core/failure-limiter.js';
import { classifyIpv4, parseCidr, parseIpv4, rangesOverlap } from '../../protocol/cidr.js';
import { weekContaining } from '../../protocol/periods.js';

function clock(start = 0) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('FailureLimiter', () => {
  it('allows the limit, then asks to wait until the window ends', () => {
    const c = clock(1_000);
    const limiter = new FailureLimiter({ windowMs: 60_000, limit: 3, now: c.now });
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.retryAfterSeconds('a')).toBe(0);
      limiter.recordFailure('a');
    }
    expect(limiter.retryAfterSeconds('a')).toBe(60);
    expect(limiter.retryAfterSeconds('b')).toBe(0);
    c.advance(45_000);
    expect(limiter.retryAfterSeconds('a')).toBe(15);
    c.advance(15_000);
    expect(limiter.retryAfterSeconds('a')).toBe(0);
  });

  it('stays bounded in memory under many distinct keys', () => {
    const c = clock();
    const limiter = new FailureLimiter({ windowMs: 60_000, limit: 3, now: c.now, maxEntries: 1000 });
    for (let i = 0; i < 10_000; i += 1) limiter.recordFailure(`k${i}`);
    expect(limiter.size).toBeLessThanOrEqual(1000);
  });
});

describe('loadConfig', () => {
  it('applies the defaults of DESIGN', () => {
    const config = loadConfig({ HOMENODE_DEV: '1' });
    expect(config).toMatchObject({
      dbPath: './data/homenode.db',
      host: '127.0.0.1',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
    });
    expect(config.policy.clusterCidrs).toEqual(['10.42.0.0/16', '10.43.0.0/16', '100.64.0.0/10']);
  });

  it('names the variable and value that are wrong', () => {
    expect(() => loadConfig({ HOMENODE_PORT: 'eighty' })).toThrow(
      /HOMENODE_PORT="eighty": must be a whole number/,
    );
    expect(() => loadConfig({ HOMENODE_BOOTSTRAP_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ HOMENODE_PUBLIC_URL: 'not a url' })).toThrow(/HOMENODE_PUBLIC_URL/);
    expect(() => loadConfig({ HOMENODE_LOG_LEVEL: 'loud' })).toThrow(/HOMENODE_LOG_LEVEL/);
  });

  it('overlays a policy file on the defaults and refuses unknown or mistyped keys', () => {
    const policy = loadPolicyFile('p.json', () => '{"minCores": 8, "severity": {"virtualization": "fail"}}');
    expect(policy).toMatchObject({ minCores: 8, requireGpu: true, severity: { virtualization: 'fail' } });
    expect(() => loadPolicyFile('p.json', () => '{"minCores": "eight"}')).toThrow(/policy file is not valid/);
    expect(() => loadPolicyFile('p.json', () => '{"minCorez": 8}')).toThrow(/policy file is not valid/);
    expect(() => loadPolicyFile('p.json', () => '{')).toThrow(/cannot read the policy file as JSON/);
  });
});

describe('IPv4 ranges', () => {
  it('parses, classifies and intersects', () => {
    expect(parseIpv4('192.168.1.23')).toBe(0xc0a80117);
    expect(parseIpv4('256.1.1.1')).toBeUndefined();
    expect(parseCidr('192.168.1.23/24')?.text).toBe('192.168.1.0/24');
    expect(classifyIpv4(parseIpv4('10.1.2.3')!)).toBe('private');
    expect(classifyIpv4(parseIpv4('172.31.0.1')!)).toBe('private');
    expect(classifyIpv4(parseIpv4('172.32.0.1')!)).toBe('public');
    expect(classifyIpv4(parseIpv4('100.72.0.1')!)).toBe('cgnat');
    expect(rangesOverlap(parseCidr('10.42.7.0/24')!, parseCidr('10.42.0.0/16')!)).toBe(true);
    expect(rangesOverlap(parseCidr('10.44.0.0/24')!, parseCidr('10.42.0.0/16')!)).toBe(false);
    expect(rangesOverlap(parseCidr('10.0.0.0/8')!, parseCidr('10.43.0.0/16')!)).toBe(true);
  });
});

describe('weekContaining', () => {
  it('runs Monday 00:00 UTC to the next Monday', () => {
    const iso = (r: { start: number; end: number }) => [
      new Date(r.start).toISOString(),
      new Date(r.end).toISOString(),
    ];
    expect(iso(weekContaining(Date.parse('2026-11-18T12:00:00Z')))).toEqual([
      '2026-11-16T00:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
    ]);
    expect(iso(weekContaining(Date.parse('2026-11-16T00:00:00Z')))).toEqual([
      '2026-11-16T00:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
    ]);
    expect(iso(weekContaining(Date.parse('2026-11-22T23:59:59Z')))).toEqual([
      '2026-11-16T00:00:00.000Z',
      '2026-11-23T00:00:00.000Z',
    ]);
  });
});
