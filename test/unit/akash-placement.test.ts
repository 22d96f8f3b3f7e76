import { describe, expect, it } from 'vitest';
import { matchPlacements } from '../../protocol/akash/placement-match.js';
import type { Fleet, FleetNode, PlacementMatch, SignedAttribute } from '../../protocol/akash/types.js';
import { AKASH_AUDITOR, OUR_AUDITOR, buildSdl, fixture, fleetNode, sdlOf } from './akash-sdl-support.js';

const RTX4090 = '10de:2684';
const RTX3090 = '10de:2204';
const H100_SXM = '10de:2330';
const A100_PCIE_80 = '10de:20b5';
const OTHER_AUDITOR = 'akash18qa2a2ltfyvkyj0ggj3hkvuj6twzyumuaru9s4';

function match(sdlText: string, fleet: Fleet, auditorId = OUR_AUDITOR): PlacementMatch[] {
  return matchPlacements(sdlOf(sdlText), fleet, { auditorId });
}

function only(sdlText: string, fleet: Fleet): PlacementMatch {
  const [first, ...rest] = match(sdlText, fleet);
  expect(rest).toEqual([]);
  if (!first) throw new Error('no placement group');
  return first;
}

const eligible = (nodes: string[]) => ({ name: 'home', eligible: true, nodes, reasons: [] });
const refused = (reason: string, nodes: string[] = []) => ({
  name: 'home',
  eligible: false,
  nodes,
  reasons: [reason],
});
const signedByUs = (key: string, value: string): SignedAttribute => ({ key, value, auditors: [OUR_AUDITOR] });

describe('matchPlacements: GPUs', () => {
  const fleet = { nodes: [fleetNode('node_4090', [RTX4090, RTX4090])] };

  it('serves an RTX 4090 request from an attested RTX 4090 node, with and without ram and interface', () => {
    for (const ask of [
      { model: 'rtx4090' },
      { model: 'rtx4090', ram: '24Gi' },
      { model: 'rtx4090', interface: 'pcie' },
      { model: 'rtx4090', ram: '24Gi', interface: 'pcie' },
    ]) {
      const sdl = buildSdl({
        attributes: { host: 'akash' },
        signedBy: { anyOf: [OUR_AUDITOR] },
        gpu: { units: 1, models: [ask] },
      });
      expect(only(sdl, fleet), JSON.stringify(ask)).toEqual(eligible(['node_4090']));
    }
  });

  it('does not serve an H100, and says which key no attested node offers', () => {
    const sdl = buildSdl({ gpu: { units: 1, models: [{ model: 'h100' }] } });
    expect(only(sdl, fleet)).toEqual(
      refused(
        'no attested node offers capabilities/gpu/vendor/nvidia/model/h100, which service app asks for',
      ),
    );
    const wrongRam = buildSdl({
      gpu: { units: 1, models: [{ model: 'rtx4090', ram: '48Gi', interface: 'pcie' }] },
    });
    expect(only(wrongRam, fleet).reasons).toEqual([
      'no attested node offers capabilities/gpu/vendor/nvidia/model/rtx4090/ram/48Gi/interface/pcie, which service app asks for',
    ]);
  });

  it('serves any model (*) from a GPU node, not from a machine without GPUs', () => {
    const sdl = buildSdl({ gpu: { units: 1, models: [] } });
    expect(only(sdl, fleet)).toEqual(eligible(['node_4090']));
    expect(only(sdl, { nodes: [fleetNode('node_cpu', [])] })).toEqual(
      refused('no attested node offers capabilities/gpu/vendor/nvidia/model/*, which service app asks for'),
    );
  });

  it('serves a request listing several models from a node with one of them', () => {
    const sdl = buildSdl({
      gpu: { units: 1, models: [{ model: 'h100' }, { model: 'rtx4090', interface: 'pcie' }] },
    });
    expect(only(sdl, fleet)).toEqual(eligible(['node_4090']));
  });

  it('says when only the case of the model name is wrong', () => {
    const sdl = buildSdl({ gpu: { units: 1, models: [{ model: 'RTX4090' }] } });
    expect(only(sdl, fleet).reasons[0]).toBe(
      'no attested node offers capabilities/gpu/vendor/nvidia/model/RTX4090, which service app asks for ' +
        '(attested nodes offer capabilities/gpu/vendor/nvidia/model/rtx4090=true); Akash matches model names exactly, in lower case',
    );
  });

  it('counts a node only while it holds a current attestation by our auditor, and says so', () => {
    const unattested = { nodes: [fleetNode('node_4090', [RTX4090], [])] };
    expect(only(buildSdl({ gpu: { units: 1, models: [{ model: 'rtx4090' }] } }), unattested)).toEqual(
      refused(
        `the fleet's only node holds no current attestation by our auditor ${OUR_AUDITOR}, so the provider advertises nothing; a node counts once its audit passes`,
      ),
    );
    const two = { nodes: [fleetNode('a', [RTX4090], []), fleetNode('b', [], [])] };
    expect(only(buildSdl(), two).reasons[0]).toMatch(
      /^none of the 2 nodes holds a current attestation by our auditor/,
    );
    const mixed = { nodes: [fleetNode('node_4090', [RTX4090]), fleetNode('node_h100', [H100_SXM], [])] };
    expect(only(buildSdl({ gpu: { units: 1, models: [{ model: 'h100' }] } }), mixed).reasons).toEqual([
      'no attested node offers capabilities/gpu/vendor/nvidia/model/h100, which service app asks for ' +
        '(1 node has it without a current attestation; it counts once an audit passes)',
    ]);
    // Attested by another auditor only: the provider does not advertise it.
    const theirs = { nodes: [fleetNode('node_4090', [RTX4090], [OTHER_AUDITOR])] };
    expect(only(buildSdl({ gpu: { units: 1, models: [] } }), theirs).eligible).toBe(false);
  });

  it('needs all of one replica’s GPUs on one node', () => {
    const two = { nodes: [fleetNode('a', [RTX4090, RTX4090]), fleetNode('b', [RTX4090, RTX4090])] };
    const sdl = buildSdl({ gpu: { units: 4, models: [{ model: 'rtx4090' }] } });
    expect(only(sdl, two)).toEqual(
      refused(
        'service app needs 4 GPUs matching capabilities/gpu/vendor/nvidia/model/rtx4090 on one node, and the most any attested node that meets the other requirements has free is 2',
        [],
      ),
    );
  });

  it('places replicas node by node and says how many fit when not all do', () => {
    const sdl = buildSdl({ gpu: { units: 1, models: [{ model: 'rtx4090' }] }, count: 3 });
    const a = fleetNode('a', [RTX4090, RTX4090]);
    expect(only(sdl, { nodes: [a, fleetNode('b', [RTX3090])] })).toEqual(
      refused(
        'the attested nodes that meet the requirements have room for 2 of the 3 replicas of service app; more nodes, or free GPUs, CPU or memory on them, would change that',
        ['a'],
      ),
    );
    expect(only(sdl, { nodes: [a, fleetNode('b', [RTX3090]), fleetNode('c', [RTX4090])] })).toEqual(
      eligible(['a', 'c']),
    );
  });

  it('runs all replicas of a service on the model its first replica got, as Akash’s inventory does', () => {
    const sdl = buildSdl({
      gpu: { units: 1, models: [{ model: 'rtx4090' }, { model: 'rtx3090' }] },
      count: 2,
    });
    const mixed = { nodes: [fleetNode('a', [RTX3090]), fleetNode('b', [RTX4090])] };
    expect(only(sdl, mixed)).toMatchObject({ eligible: false, nodes: ['a', 'b'] });
    expect(only(sdl, mixed).reasons[0]).toMatch(/room for 1 of the 2 replicas of service app/);
    const same = { nodes: [fleetNode('a', [RTX3090]), fleetNode('b', [RTX4090]), fleetNode('c', [RTX3090])] };
    expect(only(sdl, same)).toEqual(eligible(['a', 'c']));
  });

  it('keeps, like Akash’s inventory, only the last-sorting entry of a model listed twice', () => {
    const a100_40 = { nodes: [fleetNode('a100', ['10de:20b1'])] };
    const twice = buildSdl({
      gpu: {
        units: 1,
        models: [
          { model: 'a100', ram: '40Gi' },
          { model: 'a100', ram: '80Gi' },
        ],
      },
    });
    expect(only(twice, a100_40).reasons).toEqual([
      'service app needs 1 GPU matching capabilities/gpu/vendor/nvidia/model/a100/ram/40Gi or capabilities/gpu/vendor/nvidia/model/a100/ram/80Gi on one node, and the most any attested node that meets the other requirements has free is 0',
    ]);
    const once = buildSdl({ gpu: { units: 1, models: [{ model: 'a100', ram: '40Gi' }] } });
    expect(only(once, a100_40)).toEqual(eligible(['a100']));
  });

  it('matches what the request names for a model: memory and interface', () => {
    const fleet80 = { nodes: [fleetNode('a100', [A100_PCIE_80]), fleetNode('h100', [H100_SXM])] };
    const ask = (models: object[]) => only(buildSdl({ gpu: { units: 1, models } }), fleet80);
    expect(ask([{ model: 'a100', ram: '80Gi' }])).toEqual(eligible(['a100']));
    expect(ask([{ model: 'h100', interface: 'sxm' }])).toEqual(eligible(['h100']));
    expect(ask([{ model: 'h100', interface: 'pcie' }]).eligible).toBe(false);
  });
});

describe('matchPlacements: attributes and signedBy', () => {
  const nodes = [fleetNode('node_4090', [RTX4090])];

  it('serves the documentation GPU SDL only once its anyOf names our auditor', () => {
    const docs = fixture('gpu-signed-anyof.yaml');
    expect(match(docs, { nodes })).toEqual([
      {
        name: 'dcloud',
        eligible: false,
        nodes: [],
        reasons: [
          `signedBy.anyOf accepts a signature by any of ${AKASH_AUDITOR} on host=akash, and no attested node carries one; ` +
            `Home Node can vouch only for its own auditor ${OUR_AUDITOR}, so this placement can be served only once ${AKASH_AUDITOR} has signed the provider's attributes on chain`,
        ],
      },
    ]);
    const ours = docs.replace(`- ${AKASH_AUDITOR}`, `- ${AKASH_AUDITOR}\n          - ${OUR_AUDITOR}`);
    expect(match(ours, { nodes })).toEqual([
      { name: 'dcloud', eligible: true, nodes: ['node_4090'], reasons: [] },
    ]);
  });

  it('anyOf [ours, another] is served; allOf [ours, Akash’s] is not', () => {
    const gpu = { units: 1, models: [{ model: 'rtx4090' }] };
    const anyOf = buildSdl({
      attributes: { host: 'akash' },
      signedBy: { anyOf: [OUR_AUDITOR, OTHER_AUDITOR] },
      gpu,
    });
    expect(only(anyOf, { nodes })).toEqual(eligible(['node_4090']));
    const allOf = buildSdl({
      attributes: { host: 'akash' },
      signedBy: { allOf: [OUR_AUDITOR, AKASH_AUDITOR] },
      gpu,
    });
    expect(only(allOf, { nodes })).toEqual(
      refused(
        `signedBy.allOf requires signatures by ${AKASH_AUDITOR} on host=akash, and no attested node carries them; ` +
          `Home Node can vouch only for its own auditor ${OUR_AUDITOR}, so this placement can be served only once ${AKASH_AUDITOR} has signed the provider's attributes on chain`,
      ),
    );
    // Where Akash's auditor has signed too, the same placement is served.
    const both = [fleetNode('node_4090', [RTX4090], [OUR_AUDITOR, AKASH_AUDITOR])];
    expect(only(allOf, { nodes: both })).toEqual(eligible(['node_4090']));
  });

  it('reads provider-wide attributes (region) for every node, and names the value it has instead', () => {
    const sdl = fixture('region-signed-allof.yaml').replace(
      /allOf:\n(\s+)- .*\n\s+- .*\n/,
      `anyOf:\n$1- ${OUR_AUDITOR}\n`,
    );
    const provider = [signedByUs('region', 'us-west')];
    expect(match(sdl, { nodes, provider })).toEqual([
      { name: 'westcoast', eligible: true, nodes: ['node_4090'], reasons: [] },
    ]);
    const east = [signedByUs('region', 'us-east')];
    expect(match(sdl, { nodes, provider: east })[0]?.reasons).toEqual([
      'no attested node offers region=us-west (attested nodes offer region=us-east)',
    ]);
  });

  it('refuses the allOf SDL from Akash’s reference with our auditor and Akash’s, naming the missing one', () => {
    const provider = [signedByUs('region', 'us-west')];
    expect(match(fixture('region-signed-allof.yaml'), { nodes, provider })[0]).toEqual({
      name: 'westcoast',
      eligible: false,
      nodes: [],
      reasons: [
        `signedBy.allOf requires signatures by ${AKASH_AUDITOR} on location-type=home and region=us-west, and no attested node carries them; ` +
          `Home Node can vouch only for its own auditor ${OUR_AUDITOR}, so this placement can be served only once ${AKASH_AUDITOR} has signed the provider's attributes on chain`,
      ],
    });
  });

  it('places CPU-only services by free CPU when the fleet gives it, services from the last to the first', () => {
    const sdl = fixture('region-signed-allof.yaml').replace(
      /allOf:\n(\s+)- .*\n\s+- .*\n/,
      `anyOf:\n$1- ${OUR_AUDITOR}\n`,
    );
    const provider = [signedByUs('region', 'us-west')];
    const small: FleetNode = { ...fleetNode('small', []), cpuMillis: 1000 };
    const big: FleetNode = { ...fleetNode('big', []), cpuMillis: 4000 };
    expect(match(sdl, { nodes: [small, big], provider })[0]).toMatchObject({
      eligible: true,
      nodes: ['small', 'big'],
    });
    const tiny: FleetNode = { ...fleetNode('tiny', []), cpuMillis: 1500 };
    expect(match(sdl, { nodes: [tiny], provider })[0]).toMatchObject({
      eligible: false,
      nodes: ['tiny'],
      reasons: [expect.stringMatching(/room for 0 of the 1 replica of service api/)],
    });
  });

  it('needs storage classes the provider advertises: SHM (class ram) and persistent beta3', () => {
    const v21 = fixture('v2.1-two-placements.yaml');
    const gpuNodes = [fleetNode('node_4090', [RTX4090]), fleetNode('node_h100', [H100_SXM, H100_SXM])];
    const [datacenter, home] = match(v21, { nodes: gpuNodes });
    expect(datacenter).toMatchObject({
      name: 'datacenter',
      eligible: false,
      reasons: ['no attested node offers tier=premium'],
    });
    expect(home).toMatchObject({
      name: 'home',
      eligible: false,
      reasons: [
        'no attested node offers storage with class=ram and persistent=false (as capabilities/storage/<n>/… attributes), which volume shm of service notebook asks for',
      ],
    });
    const shm = [
      signedByUs('capabilities/storage/1/class', 'ram'),
      signedByUs('capabilities/storage/1/persistent', 'false'),
    ];
    expect(match(v21, { nodes: gpuNodes, provider: shm })[1]).toEqual({
      name: 'home',
      eligible: true,
      nodes: ['node_4090'],
      reasons: [],
    });
  });

  it('asks each node to meet the placement attributes itself', () => {
    const sdl = buildSdl({ attributes: { 'location-type': 'home', rack: 'r1' } });
    const r1 = {
      ...fleetNode('b', []),
      attributes: [...fleetNode('b', []).attributes, signedByUs('rack', 'r1')],
    };
    const noHome = {
      ...fleetNode('a', []),
      attributes: fleetNode('a', []).attributes.filter((x) => x.key !== 'location-type'),
    };
    expect(only(sdl, { nodes: [noHome, r1] })).toEqual(eligible(['b']));
    const r1NoHome = { ...noHome, attributes: [...noHome.attributes, signedByUs('rack', 'r1')] };
    expect(only(sdl, { nodes: [fleetNode('a', []), r1NoHome] }).reasons).toEqual([
      'no single attested node offers rack=r1 together with location-type=home',
    ]);
  });

  it('turns a service’s tee into a requirement no home node meets', () => {
    const sdl = buildSdl({ gpu: { units: 1, models: [] } }).replace(
      'image: nginx:1.27',
      'image: nginx:1.27\n    params:\n      tee: cpu-gpu',
    );
    expect(only(sdl, { nodes }).reasons).toEqual(['no attested node offers tee/type=cpu-gpu']);
  });

  it('says so when the fleet is empty', () => {
    expect(only(buildSdl(), { nodes: [] })).toEqual(refused('the fleet has no nodes'));
  });
});
