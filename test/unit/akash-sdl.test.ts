import { describe, expect, it } from 'vitest';
import { gpuAttributeKeys } from '../../protocol/akash/gpu-keys.js';
import { AKASH_AUDITOR, OUR_AUDITOR, buildSdl, fixture, lineOf, sdlOf } from './akash-sdl-support.js';

const gpuKeys = (text: string) =>
  sdlOf(text).groups[0]?.resources[0]?.resources.gpu.attributes.map((a) => a.key);

describe('parseSdl: placement groups as Akash builds them', () => {
  it('reads the documentation-style GPU SDL: attributes, signedBy anyOf, pricing and the GPU key', () => {
    const text = fixture('gpu-signed-anyof.yaml');
    const sdl = sdlOf(text);
    expect(sdl.version).toBe('2.0');
    expect(sdl.groups).toEqual([
      {
        name: 'dcloud',
        requirements: {
          attributes: [{ key: 'host', value: 'akash' }],
          signedBy: { allOf: [], anyOf: [AKASH_AUDITOR] },
        },
        position: { line: lineOf(text, '    dcloud:'), column: 5 },
        resources: [
          {
            service: 'llm',
            profile: 'llm',
            count: 1,
            price: { denom: 'uakt', amount: '10000' },
            position: { line: lineOf(text, '    dcloud:') + 12, column: 5 },
            resources: {
              cpuMillis: 8000,
              memoryBytes: 32 * 2 ** 30,
              storage: [{ name: 'default', bytes: 100 * 2 ** 30, attributes: [] }],
              gpu: {
                units: 1,
                models: [{ model: 'rtx4090' }],
                attributes: [{ key: 'vendor/nvidia/model/rtx4090', value: 'true' }],
              },
            },
          },
        ],
      },
    ]);
  });

  it('puts every service deployed to a placement into its group, in service-name order, attributes sorted', () => {
    const [group, ...rest] = sdlOf(fixture('region-signed-allof.yaml')).groups;
    expect(rest).toEqual([]);
    expect(group?.requirements).toEqual({
      attributes: [
        { key: 'location-type', value: 'home' },
        { key: 'region', value: 'us-west' },
      ],
      signedBy: { allOf: [AKASH_AUDITOR, OUR_AUDITOR], anyOf: [] },
    });
    expect(group?.resources.map((u) => [u.service, u.count, u.resources.cpuMillis, u.price.amount])).toEqual([
      ['api', 1, 2000, '400'],
      ['web', 2, 500, '100'],
    ]);
    expect(group?.resources.every((u) => u.resources.gpu.units === 0)).toBe(true);
  });

  it('reads version 2.1 with two groups (sorted by name), several GPU models and storage classes', () => {
    const sdl = sdlOf(fixture('v2.1-two-placements.yaml'));
    expect(sdl.version).toBe('2.1');
    expect(sdl.groups.map((g) => g.name)).toEqual(['datacenter', 'home']);
    const [datacenter, home] = sdl.groups;
    expect(datacenter?.resources[0]?.resources.gpu).toEqual({
      units: 8,
      models: [
        { model: 'h100', interface: 'sxm' },
        { model: 'a100', ram: '80Gi' },
      ],
      attributes: [
        { key: 'vendor/nvidia/model/a100/ram/80Gi', value: 'true' },
        { key: 'vendor/nvidia/model/h100/interface/sxm', value: 'true' },
      ],
    });
    expect(datacenter?.resources[0]?.resources.storage.map((v) => [v.name, v.attributes])).toEqual([
      ['default', []],
      [
        'data',
        [
          { key: 'class', value: 'beta3' },
          { key: 'persistent', value: 'true' },
        ],
      ],
    ]);
    expect(datacenter?.requirements.signedBy).toEqual({ allOf: [], anyOf: [] });
    expect(home?.resources[0]?.resources.gpu.attributes).toEqual([
      { key: 'vendor/nvidia/model/rtx4090/ram/24Gi/interface/pcie', value: 'true' },
    ]);
    expect(home?.resources[0]?.resources.storage[1]?.attributes).toEqual([
      { key: 'class', value: 'ram' },
      { key: 'persistent', value: 'false' },
    ]);
    expect(home?.resources[0]?.price).toEqual({ denom: 'uact', amount: '1.25' });
  });

  it('accepts the version as Akash reads it, tolerantly: 2, 2.0 (unquoted too), v2.0.0, 2.1, 2.1.0', () => {
    for (const [written, version] of [
      ['"2.0"', '2.0'],
      ['2.0', '2.0'],
      ['2', '2.0'],
      ['v2.0.0', '2.0'],
      ['"2.1"', '2.1'],
      ['2.1.0', '2.1'],
    ] as const) {
      expect(sdlOf(buildSdl().replace(/^version: .*$/m, `version: ${written}`)).version).toBe(version);
    }
  });
});

describe('GPU requests become Akash keys', () => {
  const gpu = (models: object[], units = 1) => buildSdl({ gpu: { units, models } });

  it('builds model, model/ram, model/interface and the combined model/ram/interface key', () => {
    expect(gpuKeys(gpu([{ model: 'rtx4090' }]))).toEqual(['vendor/nvidia/model/rtx4090']);
    expect(gpuKeys(gpu([{ model: 'rtx4090', ram: '24Gi' }]))).toEqual([
      'vendor/nvidia/model/rtx4090/ram/24Gi',
    ]);
    expect(gpuKeys(gpu([{ model: 'rtx4090', interface: 'pcie' }]))).toEqual([
      'vendor/nvidia/model/rtx4090/interface/pcie',
    ]);
    expect(gpuKeys(gpu([{ model: 'a100', ram: '80Gi', interface: 'sxm' }]))).toEqual([
      'vendor/nvidia/model/a100/ram/80Gi/interface/sxm',
    ]);
  });

  it('asks for any model (*) when nvidia lists none, and sorts several models by key', () => {
    expect(gpuKeys(gpu([]))).toEqual(['vendor/nvidia/model/*']);
    expect(gpuKeys(gpu([{ model: 'a6000' }, { model: 'a40' }]))).toEqual([
      'vendor/nvidia/model/a40',
      'vendor/nvidia/model/a6000',
    ]);
    expect(gpuKeys(gpu([{ model: 'a100', ram: '80Gi' }, { model: 'a100' }]))).toEqual([
      'vendor/nvidia/model/a100',
      'vendor/nvidia/model/a100/ram/80Gi',
    ]);
    expect(gpuAttributeKeys([])).toEqual([{ key: 'vendor/nvidia/model/*', value: 'true' }]);
  });

  it('writes GPU memory in whole GiB whatever binary unit the SDL uses', () => {
    expect(gpuKeys(gpu([{ model: 'a100', ram: '40960Mi' }]))).toEqual(['vendor/nvidia/model/a100/ram/40Gi']);
    expect(gpuKeys(gpu([{ model: 'h200', ram: '141Gi' }]))).toEqual(['vendor/nvidia/model/h200/ram/141Gi']);
  });

  it('keeps a service without GPU at zero units, even with attributes and no units', () => {
    expect(sdlOf(buildSdl()).groups[0]?.resources[0]?.resources.gpu).toEqual({
      units: 0,
      models: [],
      attributes: [],
    });
    expect(sdlOf(gpu([{ model: 'rtx4090' }], 0)).groups[0]?.resources[0]?.resources.gpu.units).toBe(0);
  });
});
