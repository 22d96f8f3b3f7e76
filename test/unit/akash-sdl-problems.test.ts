import { describe, expect, it } from 'vitest';
import { MAX_SDL_BYTES, parseSdl } from '../../protocol/akash/sdl/parse-sdl.js';
import type { SdlProblem } from '../../protocol/akash/types.js';
import { OUR_AUDITOR, buildSdl, fixture, lineOf, sdlOf } from './akash-sdl-support.js';

function problemsOf(text: string): SdlProblem[] {
  const result = parseSdl(text);
  if (result.ok) throw new Error('expected the SDL to be refused');
  expect(result.message).toContain(`line ${result.problems[0]?.line ?? 0}`);
  return result.problems;
}

describe('parseSdl: what Akash refuses, with the line', () => {
  it('names the line of an interface other than pcie or sxm', () => {
    const text = fixture('gpu-signed-anyof.yaml').replace(
      '- model: rtx4090',
      '- model: rtx4090\n                  interface: pciex',
    );
    expect(problemsOf(text)).toEqual([
      {
        line: lineOf(text, 'interface: pciex'),
        column: 30,
        path: 'profiles.compute.llm.resources.gpu.attributes.vendor.nvidia[0].interface',
        message:
          'profiles.compute.llm.resources.gpu.attributes.vendor.nvidia[0].interface is "pciex"; Akash accepts pcie or sxm.',
      },
    ]);
  });

  it('refuses GPU memory in decimal units, GPUs without attributes, a vendor other than nvidia, and a model twice', () => {
    const [ram] = problemsOf(buildSdl({ gpu: { units: 1, models: [{ model: 'a100', ram: '80G' }] } }));
    expect(ram?.message).toMatch(
      /"80G" is not a size; GPU memory takes binary units \(Ki, Mi, Gi, Ti\), e\.g\. 24Gi/,
    );
    const bare = buildSdl().replace('storage:', 'gpu:\n          units: 2\n        storage:');
    expect(problemsOf(bare)[0]?.message).toMatch(/asks for 2 GPU\(s\) but has no attributes/);
    const amd = buildSdl({ gpu: { units: 1, models: [] } }).replace('nvidia: null', 'amd: null');
    expect(problemsOf(amd)[0]?.message).toMatch(/unknown field "amd"; Akash accepts nvidia/);
    const twice = buildSdl({ gpu: { units: 1, models: [{ model: 'a40' }, { model: 'a40' }] } });
    expect(problemsOf(twice)[0]?.message).toMatch(/lists the same GPU twice \(vendor\/nvidia\/model\/a40\)/);
    const slash = buildSdl({ gpu: { units: 1, models: [{ model: 'a100/ram/80Gi' }] } });
    expect(problemsOf(slash)[0]?.message).toMatch(/a model is a name such as rtx4090/);
  });

  it('reports a missing compute profile, placement and price where the deployment names them', () => {
    const text = buildSdl().replace('profile: app', 'profile: gpu');
    const [p] = problemsOf(text);
    expect(p?.message).toBe(
      'deployment.app.home: there is no compute profile named gpu under profiles.compute.',
    );
    expect(text.split('\n')[(p?.line ?? 0) - 1]).toContain('profile: gpu');
    const noPrice = buildSdl().replace(/pricing:\n\s+app:/, 'pricing:\n        other:');
    expect(problemsOf(noPrice)[0]?.message).toBe(
      'deployment.app.home: profiles.placement.home.pricing has no price for app; add one.',
    );
    const noPlacement = buildSdl().replace(
      /deployment:\n {2}app:\n {4}home:/,
      'deployment:\n  app:\n    away:',
    );
    expect(problemsOf(noPlacement)[0]).toMatchObject({
      path: 'deployment.app.away',
      message: 'deployment.app.away: there is no placement profile named away under profiles.placement.',
    });
  });

  it('refuses unknown fields where Akash does, and an unknown version', () => {
    const typo = buildSdl({ signedBy: { anyOf: [OUR_AUDITOR] } }).replace('signedBy:', 'signedby:');
    const [p] = problemsOf(typo);
    expect(p?.message).toBe(
      'profiles.placement.home has an unknown field "signedby"; Akash accepts attributes, signedBy, pricing.',
    );
    expect(typo.split('\n')[(p?.line ?? 0) - 1]?.trim()).toBe('signedby:');
    expect(problemsOf(`${buildSdl()}extra: 1\n`)[0]?.message).toMatch(/The SDL has an unknown field "extra"/);
    expect(problemsOf(buildSdl({ version: '3.0' }))[0]).toMatchObject({
      line: 1,
      message: 'version is "3.0"; Akash SDLs are version 2.0 or 2.1.',
    });
  });

  it('gives YAML syntax errors with the line YAML reports, and lists every problem in order', () => {
    const dup = 'version: "2.0"\nservices:\n  web:\n    image: a\n  web:\n    image: b\n';
    expect(problemsOf(dup)).toEqual([
      {
        line: 5,
        column: 3,
        path: '',
        message: 'This key appears twice in the same mapping; keep one of them. (YAML DUPLICATE_KEY)',
      },
    ]);
    expect(problemsOf('version: "2.0"\nservices:\n\tweb: {}\n')[0]).toMatchObject({
      line: 3,
      message: expect.stringMatching(/Tabs/),
    });
    const many = buildSdl()
      .replace('units: 1', 'units: lots')
      .replace('amount: 1000', 'amount: -5')
      .replace('count: 1', 'count: 0');
    const problems = problemsOf(many);
    expect(problems.map((x) => x.path)).toEqual([
      'profiles.compute.app.resources.cpu.units',
      'profiles.placement.home.pricing.app.amount',
      'deployment.app.home.count',
    ]);
    expect(problems.map((x) => x.line)).toEqual([...problems.map((x) => x.line)].sort((a, b) => a - b));
    const result = parseSdl(many);
    expect(result.ok ? '' : result.message).toBe(
      `The SDL has 3 problems; the first is at line ${problems[0]?.line}, column ${problems[0]?.column}: ` +
        `${problems[0]?.message} Fix them and send the SDL again.`,
    );
    const one = parseSdl(buildSdl({ version: '3.0' }));
    expect(one.ok ? '' : one.message).toBe(
      'The SDL has a problem at line 1, column 10: version is "3.0"; Akash SDLs are version 2.0 or 2.1. Fix it and send the SDL again.',
    );
  });

  it('normalises storage as Akash does and refuses what it refuses', () => {
    const volume = (attributes: object) =>
      buildSdl({ storage: [{ size: '1Gi' }, { name: 'v', size: '1Gi', attributes }] });
    const attrs = (attributes: object) =>
      sdlOf(volume(attributes)).groups[0]?.resources[0]?.resources.storage[1]?.attributes;
    expect(attrs({ persistent: true })).toEqual([
      { key: 'class', value: 'default' },
      { key: 'persistent', value: 'true' },
    ]);
    expect(attrs({ class: 'ram' })).toEqual([
      { key: 'class', value: 'ram' },
      { key: 'persistent', value: 'false' },
    ]);
    expect(problemsOf(volume({ class: 'ram', persistent: true }))[0]?.message).toMatch(
      /ram class is memory and cannot be persistent/,
    );
    expect(problemsOf(volume({ class: 'beta2' }))[0]?.message).toMatch(
      /class beta2 is for persistent storage/,
    );
    expect(problemsOf(volume({ persistent: true, class: 'nvme' }))[0]?.message).toMatch(
      /class is "nvme"; Akash knows default, beta1/,
    );
    expect(problemsOf(buildSdl({ storage: [{ size: '1Gi' }, { size: '2Gi' }] }))[0]?.message).toMatch(
      /two volumes named "default"/,
    );
  });

  it('adds tee/type to the group for a service with params.tee, and needs a GPU for cpu-gpu', () => {
    const tee = (value: string, gpu = true) =>
      buildSdl(gpu ? { gpu: { units: 1, models: [] } } : {}).replace(
        'image: nginx:1.27',
        `image: nginx:1.27\n    params:\n      tee: ${value}`,
      );
    expect(sdlOf(tee('cpu-gpu')).groups[0]?.requirements.attributes).toEqual([
      { key: 'tee/type', value: 'cpu-gpu' },
    ]);
    expect(problemsOf(tee('cpu-gpu', false))[0]?.message).toBe(
      'services.app.params.tee is cpu-gpu, but compute profile app has no GPU.',
    );
    expect(problemsOf(tee('sgx'))[0]?.message).toBe(
      'services.app.params.tee is "sgx"; Akash accepts cpu or cpu-gpu.',
    );
  });

  it('follows aliases and << merge keys, explicit keys winning, and stops an alias bomb', () => {
    const merged = [
      'version: "2.0"',
      'services: { app: { image: nginx } }',
      'x-base: &base { cpu: { units: 1 }, memory: { size: 1Gi }, storage: { size: 1Gi } }',
      'profiles:',
      '  compute:',
      '    app: { resources: { <<: *base, memory: { size: 2Gi } } }',
      '  placement: { home: { pricing: { app: { denom: uakt, amount: 1 } } } }',
      'deployment: { app: { home: { profile: app, count: 1 } } }',
    ].join('\n');
    // Akash refuses unknown top-level fields, so the anchor has to live somewhere Akash reads.
    expect(problemsOf(merged)[0]?.message).toMatch(/unknown field "x-base"/);
    const inline = merged
      .replace('x-base: &base { cpu: { units: 1 }, memory: { size: 1Gi }, storage: { size: 1Gi } }\n', '')
      .replace(
        '  compute:\n',
        '  compute:\n    base: { resources: &base { cpu: { units: 1 }, memory: { size: 1Gi }, storage: { size: 1Gi } } }\n',
      );
    const unit = sdlOf(inline).groups[0]?.resources[0];
    expect(unit?.resources.memoryBytes).toBe(2 * 2 ** 30);
    expect(unit?.resources.cpuMillis).toBe(1000);
    const aliases = buildSdl().replace(
      /^services:\n(?: {2}.*\n)+/m,
      `services: &s\n  app: { image: nginx }\n`,
    );
    expect(sdlOf(aliases).groups).toHaveLength(1);
    const bomb = buildSdl({ signedBy: { anyOf: [] } }).replace(
      'anyOf: []',
      `anyOf: [ &a ${OUR_AUDITOR}, ${Array.from({ length: 101 }, () => '*a').join(', ')} ]`,
    );
    expect(problemsOf(bomb).map((p) => p.message)).toEqual([
      'The SDL uses more than 100 YAML aliases; write it out in full.',
    ]);
  });

  it(`refuses an SDL larger than ${MAX_SDL_BYTES / 1024} KiB before parsing it`, () => {
    const result = parseSdl(`${buildSdl()}#${'x'.repeat(MAX_SDL_BYTES)}\n`);
    expect(result).toEqual({
      ok: false,
      message: 'The SDL is larger than 256 KiB; Akash SDLs are a few kilobytes. Send the SDL alone.',
      problems: [],
    });
  });
});
