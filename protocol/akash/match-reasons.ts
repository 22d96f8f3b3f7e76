/**
 * The words for why a placement group cannot be served: what is missing, why it matters where
 * that is not plain, and what would change the answer.
 */
import { attributeSatisfies } from './attribute-match.js';
import { providerGpuKey } from './gpu-keys.js';
import { keyMatches } from './key-pattern.js';
import type { SignedByVerdict } from './signed-by.js';
import type { Attribute, ResourceUnit, StorageVolume } from './types.js';

/** What the matcher knows of one node. */
export interface NodeView {
  id: string;
  /** Holds a current attestation by our auditor. */
  attested: boolean;
  /** What the provider advertises for it: the node's and the provider's attributes we attested. */
  offered: Attribute[];
  /** All of the node's and the provider's attributes, attested or not. */
  everything: Attribute[];
}

export function formatAttribute(a: Attribute): string {
  return `${a.key}=${a.value}`;
}

function list(items: readonly string[], conjunction = 'and'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items.at(-1) ?? ''}`;
}

/** The provider keys a GPU request would be met by, as one phrase. */
function gpuWanted(unit: ResourceUnit): string {
  return list(
    unit.resources.gpu.attributes.map((k) => providerGpuKey(k.key)),
    'or',
  );
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Hints for a requirement no attested node meets: how many unattested nodes meet it, and near misses. */
function hints(
  views: readonly NodeView[],
  satisfies: (attrs: Attribute[]) => boolean,
  near: (a: Attribute) => boolean,
): { text: string; nearMiss: boolean } {
  const unattested = views.filter((v) => !v.attested && satisfies(v.everything)).length;
  if (unattested) {
    const who = unattested === 1 ? '1 node has it' : `${unattested} nodes have it`;
    const when = unattested === 1 ? 'it counts' : 'they count';
    return { text: ` (${who} without a current attestation; ${when} once an audit passes)`, nearMiss: false };
  }
  const offered = views.filter((v) => v.attested).flatMap((v) => v.offered.filter(near).map(formatAttribute));
  const close = [...new Set(offered)].slice(0, 3);
  return close.length
    ? { text: ` (attested nodes offer ${list(close)})`, nearMiss: true }
    : { text: '', nearMiss: false };
}

function together(earlier: readonly Attribute[]): string {
  return earlier.length ? ` together with ${list(earlier.map(formatAttribute))}` : '';
}

export function missingAttribute(
  r: Attribute,
  earlier: readonly Attribute[],
  views: readonly NodeView[],
): string {
  if (views.some((v) => v.attested && v.offered.some((a) => attributeSatisfies(r, a))))
    return `no single attested node offers ${formatAttribute(r)}${together(earlier)}`;
  const sameKey = (a: Attribute) => keyMatches(r.key, a.key) && a.value !== r.value;
  const hint = hints(views, (attrs) => attrs.some((a) => attributeSatisfies(r, a)), sameKey);
  return `no attested node offers ${formatAttribute(r)}${hint.text}`;
}

export function missingGpu(
  unit: ResourceUnit,
  earlier: readonly Attribute[],
  views: readonly NodeView[],
  offeredBy: (attrs: Attribute[]) => boolean,
): string {
  const wanted = gpuWanted(unit);
  const asked = `, which service ${unit.service} asks for`;
  if (views.some((v) => v.attested && offeredBy(v.offered)))
    return `no single attested node offers ${wanted}${together(earlier)}${asked}`;
  const lower = unit.resources.gpu.attributes.map((k) => providerGpuKey(k.key).toLowerCase());
  const caseOnly = (a: Attribute) =>
    lower.some((k) => keyMatches(k, a.key.toLowerCase())) &&
    !unit.resources.gpu.attributes.some((k) => keyMatches(providerGpuKey(k.key), a.key));
  const hint = hints(views, offeredBy, caseOnly);
  const caseNote = hint.nearMiss ? '; Akash matches model names exactly, in lower case' : '';
  return `no attested node offers ${wanted}${asked}${hint.text}${caseNote}`;
}

export function missingStorage(
  unit: ResourceUnit,
  volume: StorageVolume,
  earlier: readonly Attribute[],
  anyAttested: boolean,
): string {
  const wanted = list(volume.attributes.map(formatAttribute));
  const what = `storage with ${wanted} (as capabilities/storage/<n>/… attributes), which volume ${volume.name} of service ${unit.service} asks for`;
  return anyAttested
    ? `no single attested node offers ${what}${together(earlier)}`
    : `no attested node offers ${what}`;
}

export function unsignedReason(
  verdict: SignedByVerdict,
  required: readonly Attribute[],
  auditorId: string,
): string {
  if (verdict.met) return '';
  const on = required.length ? list(required.map(formatAttribute)) : "the provider's attributes";
  const others = verdict.auditors.filter((a) => a !== auditorId);
  const vouch = verdict.rule === 'allOf' ? others.length > 0 : !verdict.auditors.includes(auditorId);
  const next = vouch
    ? `; Home Node can vouch only for its own auditor ${auditorId}, so this placement can be served only once ${list(verdict.rule === 'allOf' ? others : verdict.auditors)} ${verdict.rule === 'allOf' && others.length > 1 ? 'have' : 'has'} signed the provider's attributes on chain`
    : '; a node carries our signature once its audit passes';
  if (verdict.rule === 'allOf')
    return `signedBy.allOf requires signatures by ${list(verdict.auditors)} on ${on}, and no attested node carries them${next}`;
  return `signedBy.anyOf accepts a signature by any of ${list(verdict.auditors)} on ${on}, and no attested node carries one${next}`;
}

export function tooFewGpus(unit: ResourceUnit, best: number): string {
  const wanted = gpuWanted(unit);
  const exact = unit.resources.gpu.models.some((m) => m.model !== '*' && m.model.includes('*'))
    ? "; Akash's inventory assigns GPUs by exact model name (or any model, for *), not by pattern"
    : '';
  return `service ${unit.service} needs ${plural(unit.resources.gpu.units, 'GPU')} matching ${wanted} on one node, and the most any attested node that meets the other requirements has free is ${best}${exact}`;
}

export function noRoom(unit: ResourceUnit, placed: number): string {
  return `the attested nodes that meet the requirements have room for ${placed} of the ${plural(unit.count, 'replica')} of service ${unit.service}; more nodes, or free GPUs, CPU or memory on them, would change that`;
}

export function noAttestedNodes(total: number, auditorId: string): string {
  if (total === 0) return 'the fleet has no nodes';
  const who = total === 1 ? "the fleet's only node holds no" : `none of the ${total} nodes holds a`;
  return `${who} current attestation by our auditor ${auditorId}, so the provider advertises nothing; a node counts once its audit passes`;
}
