/**
 * Attribute matching as Akash does it (akash-network/chain-sdk `go/node/types/attributes/v1/
 * attribute.go`, at 55f1c68): a requirement is met by an attribute whose key matches the
 * requirement's key pattern and whose value is exactly the requirement's value.
 */
import { keyMatches } from './key-pattern.js';
import type { Attribute } from './types.js';

/** `Attribute.SubsetOf`: the requirement's key pattern matches the key, and the values are equal. */
export function attributeSatisfies(requirement: Attribute, have: Attribute): boolean {
  return requirement.value === have.value && keyMatches(requirement.key, have.key);
}

/** The first requirement no attribute in `have` meets, or undefined (`AttributesSubsetOf`). */
export function firstUnmet(
  requirements: readonly Attribute[],
  have: readonly Attribute[],
): Attribute | undefined {
  return requirements.find((r) => !have.some((a) => attributeSatisfies(r, a)));
}

/** Every requirement is met by some attribute (`AttributesSubsetOf`). */
export function attributesSubsetOf(requirements: readonly Attribute[], have: readonly Attribute[]): boolean {
  return firstUnmet(requirements, have) === undefined;
}

/** At least one requirement is met by some attribute (`AttributesAnyOf`). */
export function attributesAnyOf(requirements: readonly Attribute[], have: readonly Attribute[]): boolean {
  return requirements.some((r) => have.some((a) => attributeSatisfies(r, a)));
}

/**
 * The GPU capabilities in `attributes` as Akash compares them with an SDL's GPU keys
 * (`GetCapabilitiesMap("gpu")`): keys under `capabilities/gpu` with the first two segments
 * dropped, so `capabilities/gpu/vendor/nvidia/model/a100` becomes `vendor/nvidia/model/a100`.
 */
export function gpuCapabilities(attributes: readonly Attribute[]): Attribute[] {
  const out: Attribute[] = [];
  for (const a of attributes) {
    if (!a.key.startsWith('capabilities/gpu')) continue;
    const tokens = a.key.slice('capabilities/'.length).split('/');
    if (tokens.length < 3) continue;
    out.push({ key: tokens.slice(1).join('/'), value: a.value });
  }
  return out;
}

/**
 * The storage classes in `attributes`, grouped as Akash groups them (`GetCapabilitiesGroup(
 * "storage")`): `capabilities/storage/<n>/<key>` attributes with the same `<n>` form one group of
 * `{ key, value }`, e.g. `[{ class: beta2 }, { persistent: true }]`.
 */
export function storageCapabilityGroups(attributes: readonly Attribute[]): Attribute[][] {
  const groups = new Map<string, Attribute[]>();
  for (const a of attributes) {
    if (!a.key.startsWith('capabilities/storage')) continue;
    const tokens = a.key.slice('capabilities/'.length).split('/');
    const [, group, key] = tokens;
    if (tokens.length !== 3 || group === undefined || key === undefined) continue;
    const list = groups.get(group) ?? [];
    list.push({ key, value: a.value });
    groups.set(group, list);
  }
  return [...groups.values()];
}

/** An SDL's GPU request is offered (`MatchResourcesRequirements`: any requested key, `AnyIN`). */
export function gpuRequestOffered(gpuKeys: readonly Attribute[], offered: readonly Attribute[]): boolean {
  return attributesAnyOf(gpuKeys, gpuCapabilities(offered));
}

/** A storage volume's attributes are all held by one storage class group (`IN`). */
export function storageRequestOffered(volume: readonly Attribute[], offered: readonly Attribute[]): boolean {
  return storageCapabilityGroups(offered).some((group) => attributesSubsetOf(volume, group));
}
