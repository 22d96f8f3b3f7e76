import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  attributeSatisfies,
  attributesAnyOf,
  attributesSubsetOf,
  gpuCapabilities,
  gpuRequestOffered,
  storageCapabilityGroups,
  storageRequestOffered,
} from '../../protocol/akash/attribute-match.js';
import { keyMatches } from '../../protocol/akash/key-pattern.js';
import { evaluateSignedBy } from '../../protocol/akash/signed-by.js';
import type { Attribute, SignedAttribute } from '../../protocol/akash/types.js';

const a = (key: string, value = 'true'): Attribute => ({ key, value });

describe('key patterns, as Go’s filepath.Match reads them', () => {
  it('matches literally, with * and ? staying inside one path segment', () => {
    const cases: [string, string, boolean][] = [
      ['region', 'region', true],
      ['region', 'regions', false],
      ['*', 'region', true],
      ['*', 'capabilities/gpu', false],
      ['capabilities/gpu/vendor/nvidia/model/*', 'capabilities/gpu/vendor/nvidia/model/rtx4090', true],
      [
        'capabilities/gpu/vendor/nvidia/model/*',
        'capabilities/gpu/vendor/nvidia/model/rtx4090/ram/24Gi',
        false,
      ],
      ['vendor/nvidia/model/rtx40*', 'vendor/nvidia/model/rtx4090', true],
      ['vendor/nvidia/model/rtx40*', 'vendor/nvidia/model/rtx3090', false],
      ['a*/b', 'abc/b', true],
      ['a*/b', 'a/c/b', false],
      ['a*b*c*d*e*/f', 'axbxcxdxe/f', true],
      ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
      ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false],
      ['ab?d', 'abcd', true],
      ['a?c', 'a/c', false],
      ['a*', 'a', true],
    ];
    for (const [pattern, key, want] of cases)
      expect(keyMatches(pattern, key), `${pattern} ~ ${key}`).toBe(want);
  });

  it('reads classes, ranges, negation and escapes, and lets a malformed pattern match nothing', () => {
    const cases: [string, string, boolean][] = [
      ['tier-[abc]', 'tier-b', true],
      ['tier-[abc]', 'tier-d', false],
      ['tier-[a-c]', 'tier-c', true],
      ['tier-[^a-c]', 'tier-c', false],
      ['tier-[^a-c]', 'tier-x', true],
      ['a[^x]b', 'a/b', true],
      ['a\\*b', 'a*b', true],
      ['a\\*b', 'axb', false],
      ['[z-a]', 'm', false],
      ['a[', 'a', false],
      ['a[', 'a[', false],
      ['a\\', 'a\\', false],
      ['[]a]', ']', false],
      ['[-]', '-', false],
      ['[x-]', 'x', false],
    ];
    for (const [pattern, key, want] of cases)
      expect(keyMatches(pattern, key), `${pattern} ~ ${key}`).toBe(want);
  });

  it('matches every key against itself when it has no pattern characters', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-zA-Z][\w/.-]{1,60}$/), (key) => keyMatches(key, key)),
      { numRuns: 300 },
    );
  });
});

describe('attribute matching as Akash does it', () => {
  it('needs the key pattern to match and the value to be equal', () => {
    expect(attributeSatisfies(a('region', 'us-west'), a('region', 'us-west'))).toBe(true);
    expect(attributeSatisfies(a('region', 'us-west'), a('region', 'us-east'))).toBe(false);
    expect(attributeSatisfies(a('region', 'us-west'), a('Region', 'us-west'))).toBe(false);
    expect(attributeSatisfies(a('host', 'akash'), a('host', 'Akash'))).toBe(false);
  });

  it('checks subsets and any-of as Akash’s attribute sets do', () => {
    const one = [a('key1', 'val1')];
    const two = [a('key1', 'val1'), a('key2', 'val2')];
    const four = [...two, a('key3', 'val3'), a('key4', 'val4')];
    const tail = [a('key3', 'val3'), a('key4', 'val4')];
    expect(attributesSubsetOf(one, two)).toBe(true);
    expect(attributesSubsetOf(two, four)).toBe(true);
    expect(attributesSubsetOf(one, tail)).toBe(false);
    expect(attributesSubsetOf([], [])).toBe(true);
    expect(attributesAnyOf(two, one)).toBe(true);
    expect(attributesAnyOf(one, tail)).toBe(false);
  });

  it('compares GPU requests with the capabilities/gpu attributes, prefix dropped', () => {
    const provider = [
      a('capabilities/storage/1/class', 'default'),
      a('capabilities/storage/1/persistent'),
      a('capabilities/gpu/vendor/nvidia/model/a100'),
      a('capabilities/gpu'),
    ];
    expect(gpuCapabilities(provider)).toEqual([a('vendor/nvidia/model/a100')]);
    expect(gpuRequestOffered([a('vendor/nvidia/model/a100')], provider)).toBe(true);
    expect(gpuRequestOffered([a('vendor/nvidia/model/*')], provider)).toBe(true);
    expect(gpuRequestOffered([a('vendor/nvidia/model/h100'), a('vendor/nvidia/model/a100')], provider)).toBe(
      true,
    );
    expect(gpuRequestOffered([a('vendor/nvidia/model/a100/ram/80Gi')], provider)).toBe(false);
    expect(
      gpuRequestOffered([a('vendor/nvidia/model/a100')], [a('capabilities/storage/1/class', 'beta2')]),
    ).toBe(false);
    expect(gpuRequestOffered([a('vendor/nvidia/model/a100', 'false')], provider)).toBe(false);
  });

  it('needs one storage class group to hold every attribute of a volume', () => {
    const volume = [a('class', 'default'), a('persistent', 'true')];
    const both = [
      a('capabilities/storage/1/class', 'default'),
      a('capabilities/storage/1/persistent', 'true'),
    ];
    expect(storageCapabilityGroups(both)).toEqual([[a('class', 'default'), a('persistent', 'true')]]);
    expect(storageRequestOffered(volume, both)).toBe(true);
    expect(storageRequestOffered(volume, [a('capabilities/storage/1/class', 'default')])).toBe(false);
    expect(storageRequestOffered(volume, [a('capabilities/storage/1/class', 'beta2')])).toBe(false);
    const split = [
      a('capabilities/storage/1/class', 'default'),
      a('capabilities/storage/2/persistent', 'true'),
    ];
    expect(storageRequestOffered(volume, split)).toBe(false);
    expect(
      storageCapabilityGroups([a('capabilities/storage/1/x/y', 'z'), a('capabilities/storage', 'z')]),
    ).toEqual([]);
  });
});

describe('signedBy, as Akash evaluates it', () => {
  const required = [a('region', 'us-west')];
  const signed = (auditors: string[], attrs = required): SignedAttribute[] =>
    attrs.map((x) => ({ ...x, auditors }));

  it('allOf needs every listed auditor to have signed every placement attribute', () => {
    const signedBy = { allOf: ['auditor1', 'auditor2'], anyOf: [] };
    expect(evaluateSignedBy(required, signedBy, signed([]))).toEqual({
      met: false,
      rule: 'allOf',
      auditors: ['auditor1', 'auditor2'],
    });
    expect(evaluateSignedBy(required, signedBy, signed(['auditor2']))).toEqual({
      met: false,
      rule: 'allOf',
      auditors: ['auditor1'],
    });
    expect(evaluateSignedBy(required, signedBy, signed(['auditor2', 'auditor1']))).toEqual({ met: true });
  });

  it('anyOf needs one listed auditor; both rules apply together', () => {
    expect(evaluateSignedBy(required, { allOf: [], anyOf: ['auditor1'] }, signed(['auditor2']))).toEqual({
      met: false,
      rule: 'anyOf',
      auditors: ['auditor1'],
    });
    expect(
      evaluateSignedBy(required, { allOf: [], anyOf: ['auditor1'] }, signed(['auditor2', 'auditor1'])),
    ).toEqual({ met: true });
    const both = { allOf: ['auditor1', 'auditor2'], anyOf: ['auditor3', 'auditor4'] };
    expect(evaluateSignedBy(required, both, signed(['auditor3', 'auditor4']))).toMatchObject({
      met: false,
      rule: 'allOf',
    });
    expect(evaluateSignedBy(required, both, signed(['auditor3', 'auditor4', 'auditor2']))).toMatchObject({
      met: false,
    });
    expect(evaluateSignedBy(required, both, signed(['auditor3', 'auditor2', 'auditor1']))).toEqual({
      met: true,
    });
    expect(evaluateSignedBy(required, both, signed(['auditor2', 'auditor1']))).toMatchObject({
      met: false,
      rule: 'anyOf',
    });
  });

  it('counts only the attributes an auditor signed, and needs it to have signed something', () => {
    const held = [
      { ...a('region', 'us-west'), auditors: ['auditor1'] },
      { ...a('tier', 'community'), auditors: ['auditor2'] },
    ];
    const two = [a('region', 'us-west'), a('tier', 'community')];
    expect(evaluateSignedBy(two, { allOf: ['auditor1'], anyOf: [] }, held)).toMatchObject({ met: false });
    expect(evaluateSignedBy([], { allOf: ['auditor1'], anyOf: [] }, held)).toEqual({ met: true });
    expect(evaluateSignedBy([], { allOf: ['auditor3'], anyOf: [] }, held)).toMatchObject({ met: false });
    expect(evaluateSignedBy(two, { allOf: [], anyOf: [] }, [])).toEqual({ met: true });
  });
});
