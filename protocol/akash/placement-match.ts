/**
 * `matchPlacements(sdl, fleet, { auditorId })`: for each placement group of an SDL, whether our
 * fleet can serve it, on which nodes, and if not, the first unmet requirement in words.
 *
 * The checks run in the order Akash's provider runs them before it bids (akash-network/provider
 * `bidengine/order.go`, `shouldBid`, at afc4dd7) and then reserves (`inventory.ts`):
 * 1. the placement attributes, each an exact value under a key pattern;
 * 2. each service's GPU request (any of its keys under `capabilities/gpu/`) and each storage
 *    volume's attributes (one `capabilities/storage/<n>/` class holding them all);
 * 3. `signedBy` (`signed-by.ts`);
 * 4. GPUs on one node for one replica, and room for every replica.
 *
 * The managed provider advertises what our auditor attested, so a node takes part only with a
 * current attestation, and offers only its attested attributes (plus the provider's own). Akash
 * compares the provider's attributes as one set; we ask each node to meet the placement
 * attributes and `signedBy` itself, which for a fleet whose nodes share their non-GPU attributes
 * gives Akash's answer, and keeps the list of nodes honest.
 */
import { attributeSatisfies, gpuRequestOffered, storageRequestOffered } from './attribute-match.js';
import { allocate, eligibleGpuCount, type NodeCapacity } from './inventory.js';
import {
  missingAttribute,
  missingGpu,
  missingStorage,
  noAttestedNodes,
  noRoom,
  tooFewGpus,
  unsignedReason,
  type NodeView,
} from './match-reasons.js';
import { evaluateSignedBy, signedByIsEmpty } from './signed-by.js';
import type {
  Attribute,
  Fleet,
  FleetNode,
  PlacementGroup,
  PlacementMatch,
  Sdl,
  SignedAttribute,
} from './types.js';

export interface MatchOptions {
  /** Our auditor's id: the only auditor whose attestations make a node take part. */
  auditorId: string;
}

interface View extends NodeView {
  node: FleetNode;
  held: SignedAttribute[];
}

function strip(attrs: readonly SignedAttribute[]): Attribute[] {
  return attrs.map(({ key, value }) => ({ key, value }));
}

function viewOf(node: FleetNode, provider: readonly SignedAttribute[], auditorId: string): View {
  const ours = (a: SignedAttribute) => a.auditors.includes(auditorId);
  const attested = node.attributes.some(ours);
  const held = [...node.attributes, ...provider];
  return {
    id: node.id,
    node,
    attested,
    offered: attested ? strip(held.filter(ours)) : [],
    everything: strip(held),
    held,
  };
}

function capacity(v: View): NodeCapacity {
  const { id, gpus, cpuMillis, memoryBytes, ephemeralBytes } = v.node;
  return { id, gpus, cpuMillis, memoryBytes, ephemeralBytes };
}

/** Nodes of `pool` that could take at least one replica of some service of the group. */
function qualifying(pool: readonly View[], group: PlacementGroup): string[] {
  return pool
    .filter((v) =>
      group.resources.some(
        (u) =>
          u.resources.gpu.units === 0 ||
          eligibleGpuCount(v.node.gpus, u.resources.gpu.attributes) >= u.resources.gpu.units,
      ),
    )
    .map((v) => v.id);
}

function matchGroup(group: PlacementGroup, views: readonly View[], auditorId: string): PlacementMatch {
  const fail = (reason: string, nodes: string[] = []): PlacementMatch => ({
    name: group.name,
    eligible: false,
    nodes,
    reasons: [reason],
  });
  let pool = views.filter((v) => v.attested);
  if (!pool.length) return fail(noAttestedNodes(views.length, auditorId));

  const { attributes: required, signedBy } = group.requirements;
  const earlier: Attribute[] = [];
  for (const r of required) {
    const having = pool.filter((v) => v.offered.some((a) => attributeSatisfies(r, a)));
    if (!having.length) return fail(missingAttribute(r, earlier, views));
    pool = having;
    earlier.push(r);
  }

  for (const unit of group.resources) {
    const gpu = unit.resources.gpu;
    const offersGpu = (attrs: Attribute[]) => gpuRequestOffered(gpu.attributes, attrs);
    if (gpu.units > 0 && gpu.attributes.length && !pool.some((v) => offersGpu(v.offered)))
      return fail(missingGpu(unit, earlier, views, offersGpu));
    for (const volume of unit.resources.storage.filter((s) => s.attributes.length)) {
      if (!pool.some((v) => storageRequestOffered(volume.attributes, v.offered))) {
        const anywhere = views.some((v) => v.attested && storageRequestOffered(volume.attributes, v.offered));
        return fail(missingStorage(unit, volume, earlier, anywhere));
      }
    }
  }

  if (!signedByIsEmpty(signedBy)) {
    const verdicts = pool.map((v) => evaluateSignedBy(required, signedBy, v.held));
    const signed = pool.filter((_, i) => verdicts[i]?.met);
    const worst = verdicts[0];
    if (!signed.length && worst) return fail(unsignedReason(worst, required, auditorId));
    pool = signed;
  }

  for (const unit of group.resources) {
    const { units, attributes } = unit.resources.gpu;
    if (units === 0) continue;
    const best = Math.max(0, ...pool.map((v) => eligibleGpuCount(v.node.gpus, attributes)));
    if (best < units) return fail(tooFewGpus(unit, best), qualifying(pool, group));
  }

  const allocation = allocate(
    pool.map(capacity),
    group.resources.map((u, index) => ({ index, count: u.count, resources: u.resources })),
  );
  const stuck = allocation.unplaced && group.resources[allocation.unplaced.index];
  if (allocation.unplaced && stuck)
    return fail(noRoom(stuck, allocation.unplaced.placed), qualifying(pool, group));
  const used = new Set([...allocation.placed.values()].flat());
  return {
    name: group.name,
    eligible: true,
    nodes: pool.filter((v) => used.has(v.id)).map((v) => v.id),
    reasons: [],
  };
}

/** Match every placement group of `sdl` against `fleet`, by Akash's rules. */
export function matchPlacements(sdl: Sdl, fleet: Fleet, options: MatchOptions): PlacementMatch[] {
  const views = fleet.nodes.map((n) => viewOf(n, fleet.provider ?? [], options.auditorId));
  return sdl.groups.map((g) => matchGroup(g, views, options.auditorId));
}
