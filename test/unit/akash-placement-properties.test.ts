import fc from 'fast-check';
import { describe, it } from 'vitest';
import { matchPlacements } from '../../protocol/akash/placement-match.js';
import type { Fleet, FleetNode, PlacementMatch, SignedAttribute } from '../../protocol/akash/types.js';
import {
  AKASH_AUDITOR,
  OUR_AUDITOR,
  buildSdl,
  fleetNode,
  sdlOf,
  type SdlChoices,
} from './akash-sdl-support.js';

const RTX4090 = '10de:2684';
const RTX3090 = '10de:2204';
const H100_SXM = '10de:2330';
const A100_PCIE_80 = '10de:20b5';
const OTHER_AUDITOR = 'akash18qa2a2ltfyvkyj0ggj3hkvuj6twzyumuaru9s4';

function only(sdlText: string, fleet: Fleet): PlacementMatch {
  const [first] = matchPlacements(sdlOf(sdlText), fleet, { auditorId: OUR_AUDITOR });
  if (!first) throw new Error('no placement group');
  return first;
}

const signedByUs = (key: string, value: string): SignedAttribute => ({ key, value, auditors: [OUR_AUDITOR] });

describe('matchPlacements: properties', () => {
  const GPU_IDS = [RTX4090, RTX3090, H100_SXM, A100_PCIE_80];
  const AUDITORS = [OUR_AUDITOR, AKASH_AUDITOR, OTHER_AUDITOR];
  const nodeArb = fc.record({
    gpus: fc.array(fc.constantFrom(...GPU_IDS), { maxLength: 4 }),
    attested: fc.boolean(),
    akash: fc.boolean(),
  });
  const fleetArb = fc.array(nodeArb, { minLength: 1, maxLength: 4 }).map((specs) => ({
    nodes: specs.map((s, i) =>
      fleetNode(`n${i}`, s.gpus, [...(s.attested ? [OUR_AUDITOR] : []), ...(s.akash ? [AKASH_AUDITOR] : [])]),
    ),
  }));
  const modelArb = fc.record(
    {
      model: fc.constantFrom('rtx4090', 'rtx3090', 'h100', 'a100', '*'),
      ram: fc.constantFrom('24Gi', '80Gi'),
      interface: fc.constantFrom('pcie', 'sxm'),
    },
    { requiredKeys: ['model'] },
  );
  const choicesArb: fc.Arbitrary<SdlChoices> = fc.record({
    attributes: fc
      .subarray([['host', 'akash'] as const, ['location-type', 'home'] as const])
      .map((l) => Object.fromEntries(l)),
    signedBy: fc.record({
      allOf: fc.subarray(AUDITORS, { maxLength: 2 }),
      anyOf: fc.subarray(AUDITORS, { maxLength: 2 }),
    }),
    gpu: fc.record({
      units: fc.integer({ min: 1, max: 3 }),
      models: fc.uniqueArray(modelArb, { maxLength: 2, selector: (m) => JSON.stringify(m) }),
    }),
    count: fc.integer({ min: 1, max: 3 }),
  });
  const parseable = (c: SdlChoices) => {
    try {
      sdlOf(buildSdl(c));
      return true;
    } catch {
      return false;
    }
  };

  it('answers eligible with nodes of the fleet and no reasons, or not eligible with one reason', () => {
    fc.assert(
      fc.property(choicesArb.filter(parseable), fleetArb, (choices, fleet) => {
        const result = only(buildSdl(choices), fleet);
        const ids = fleet.nodes.map((n) => n.id);
        if (result.eligible)
          return (
            result.reasons.length === 0 &&
            result.nodes.length > 0 &&
            result.nodes.every((n) => ids.includes(n))
          );
        return result.reasons.length === 1 && (result.reasons[0] ?? '').length > 0;
      }),
      { numRuns: 200 },
    );
  });

  // Only to attested nodes: attesting a node that was not is adding a node, and a node added ahead
  // of the others can change the model Akash's first-fit gives a first replica (as in Akash).
  it('never makes an eligible placement ineligible by adding attested attributes to an attested node', () => {
    const extraArb = fc.record({
      node: fc.nat(),
      key: fc.constantFrom(
        'host',
        'region',
        'tier',
        'capabilities/gpu/vendor/nvidia/model/h100',
        'location-type',
      ),
      value: fc.constantFrom('akash', 'us-west', 'true', 'datacenter'),
    });
    const attested = (n: FleetNode) => n.attributes.some((x) => x.auditors.includes(OUR_AUDITOR));
    fc.assert(
      fc.property(
        choicesArb.filter(parseable),
        fleetArb,
        fc.array(extraArb, { maxLength: 3 }),
        (choices, fleet, extras) => {
          const sdl = buildSdl(choices);
          const grown = {
            nodes: fleet.nodes.map((n, i) => {
              const mine = extras.filter((x) => x.node % fleet.nodes.length === i && attested(n));
              return { ...n, attributes: [...n.attributes, ...mine.map((x) => signedByUs(x.key, x.value))] };
            }),
          };
          return !only(sdl, fleet).eligible || only(sdl, grown).eligible;
        },
      ),
      { numRuns: 300 },
    );
  });

  // Not "withdrawing never makes a placement eligible": with Akash's first-fit, a node that gives a
  // first replica one model can keep the rest from fitting on nodes with another (as in Akash).
  it('never makes an eligible placement ineligible by adding a node at the end, and never lists an unattested node', () => {
    fc.assert(
      fc.property(
        choicesArb.filter(parseable),
        fleetArb,
        nodeArb,
        fc.nat(),
        (choices, fleet, extra, which) => {
          const sdl = buildSdl(choices);
          const before = only(sdl, fleet).eligible;
          const added = {
            nodes: [...fleet.nodes, fleetNode('added', extra.gpus, extra.attested ? [OUR_AUDITOR] : [])],
          };
          if (before && !only(sdl, added).eligible) return false;
          const i = which % fleet.nodes.length;
          const unsign = (n: FleetNode): FleetNode => ({
            ...n,
            attributes: n.attributes.map((x) => ({
              ...x,
              auditors: x.auditors.filter((id) => id !== OUR_AUDITOR),
            })),
          });
          const withdrawn = { nodes: fleet.nodes.map((n, j) => (j === i ? unsign(n) : n)) };
          return !only(sdl, withdrawn).nodes.includes(`n${i}`);
        },
      ),
      { numRuns: 200 },
    );
  });
});
