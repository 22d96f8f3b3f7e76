/** The dashboard's pure helpers: money with bigint only, and machine status in plain words. */
import { describe, expect, it } from 'vitest';
import { formatUsd, parseUsd, sumUusd } from '../../enroll-server/web/money.js';
import { describeNode } from '../../enroll-server/web/status.js';

describe('dashboard money', () => {
  it('formats micro-USD strings as dollars without floating point', () => {
    expect(formatUsd('0')).toBe('$0.00');
    expect(formatUsd('12345678')).toBe('$12.35');
    expect(formatUsd('12344999')).toBe('$12.34');
    expect(formatUsd('-500000')).toBe('−$0.50');
    expect(formatUsd('1234567890123456789')).toBe('$1,234,567,890,123.46');
    expect(formatUsd('9007199254740993', 6)).toBe('$9,007,199,254.740993');
    expect(formatUsd('-1', 2)).toBe('$0.00');
    expect(formatUsd('999999', 0)).toBe('$1');
  });

  it('parses dollar amounts typed by a reviewer', () => {
    expect(parseUsd('12.50')).toBe(12_500_000n);
    expect(parseUsd('-3')).toBe(-3_000_000n);
    expect(parseUsd('$1,000.000001')).toBe(1_000_000_001n);
    expect(parseUsd('.5')).toBe(500_000n);
    expect(parseUsd('1.0000001')).toBeUndefined();
    expect(parseUsd('abc')).toBeUndefined();
    expect(parseUsd('')).toBeUndefined();
    expect(sumUusd(['1', '-2', '9007199254740993'])).toBe(9007199254740992n);
  });
});

describe('machine status in plain words', () => {
  const now = Date.parse('2026-11-02T12:00:00Z');
  const base = { statusReason: null, online: false, lastSeenAt: null };

  it('explains waiting, online, offline, rejected and re-approval', () => {
    expect(describeNode({ ...base, status: 'pending' }, now)).toMatchObject({
      label: 'Waiting for approval',
      tone: 'wait',
    });
    expect(describeNode({ ...base, status: 'active', online: true }, now)).toMatchObject({
      label: 'Online',
      tone: 'ok',
    });
    expect(
      describeNode({ ...base, status: 'active', lastSeenAt: '2026-11-02T09:00:00Z' }, now),
    ).toMatchObject({ label: 'Offline since 3 hours ago', tone: 'off' });
    const rejected = describeNode(
      { ...base, status: 'rejected', statusReason: 'the GPU is a laptop part' },
      now,
    );
    expect(rejected.label).toBe('Needs attention: not approved');
    expect(rejected.explanation).toContain('the GPU is a laptop part');
    expect(
      describeNode(
        { ...base, status: 'pending', statusReason: 'GPU changed from 1× rtx4090 to 2× rtx4090.' },
        now,
      ).label,
    ).toBe('Needs attention: approval again');
  });

  it('lists what needs attention: open flags and checks that did not pass', () => {
    const plain = describeNode(
      {
        ...base,
        status: 'approved',
        online: true,
        flags: [{ message: 'Two live sessions share this fingerprint.', resolvedAt: null }],
        preflight: [
          { id: 'virtualization', status: 'warn', summary: 'Running inside a VM.', fix: 'Use bare metal.' },
        ],
      },
      now,
    );
    expect(plain).toMatchObject({ label: 'Online, needs attention', tone: 'warn' });
    expect(plain.attention).toEqual([
      'Two live sessions share this fingerprint.',
      'Running inside a VM. Use bare metal.',
    ]);
  });
});
