/**
 * `parseSdl(text)`: an Akash SDL (versions 2.0 and 2.1) to its placement groups, as Akash builds
 * them (akash-network/chain-sdk `go/sdl/sdl.go`, `v2.go` and `groupBuilder_v2.go`, at 55f1c68):
 * one group per placement profile named in `deployment`, holding one resource unit per service
 * deployed there (services in name order), with the profile's attributes sorted by key, its
 * `signedBy`, and the price of the service's compute profile. A service with `params.tee` adds
 * the `tee/type` attribute to its group's requirements.
 *
 * This reads what placement needs and checks it as Akash would; it is not a full SDL validator
 * (`expose`, `endpoints`, `credentials` and the like are not checked). Every problem names its
 * line and column; the result lists them all.
 */
import type { Node } from 'yaml';
import type {
  ComputeResources,
  PlacementGroup,
  ResourceUnit,
  Sdl,
  SdlParseResult,
  SdlProblem,
} from '../types.js';
import { readComputeProfile } from './compute-profile.js';
import { readPlacementProfile, type PlacementProfile } from './placement-profile.js';
import { YamlReader, type Entry } from './yaml-reader.js';

/** The longest SDL we read; Akash's own are a few kilobytes. */
export const MAX_SDL_BYTES = 256 * 1024;
const TOP_LEVEL = ['version', 'services', 'profiles', 'deployment', 'endpoints', 'include', 'reclamation'];
/** Service names as Akash's manifest takes them (`go/manifest/v2beta3/manifest.go`). */
const SERVICE_NAME = /^[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
/** Profile names: Akash takes any text; we take names that are safe to echo back. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const COUNT = /^[1-9][0-9]{0,5}$/;

function readVersion(r: YamlReader, entry: Entry | undefined, root: Node | null): Sdl['version'] | undefined {
  if (!entry) {
    r.problem(root, 'version', 'The SDL has no version; start it with version: "2.0" (or "2.1").');
    return undefined;
  }
  const text = r.text(entry.value, entry.path);
  if (text === undefined) return undefined;
  // Akash reads the version tolerantly as semver: "2", "2.0" and "v2.0.0" are all 2.0.
  if (/^v?2(?:\.0){0,2}$/.test(text)) return '2.0';
  if (/^v?2\.1(?:\.[0-9]+)?$/.test(text)) return '2.1';
  r.problem(entry.value, entry.path, `version is "${text}"; Akash SDLs are version 2.0 or 2.1.`);
  return undefined;
}

function named(r: YamlReader, entries: Entry[], pattern: RegExp, what: string): Entry[] {
  return entries.filter((e) => {
    if (pattern.test(e.key)) return true;
    r.problem(
      e.keyNode,
      e.path,
      `"${e.key}" is not a valid ${what} name (letters, digits, "-", "_", "."; at most 63 characters).`,
    );
    return false;
  });
}

/** `services.<name>.params.tee`, or '' when none; undefined when invalid. */
function readTee(r: YamlReader, service: Entry): string | undefined {
  const fields = r.entries(service.value, service.path, 'a mapping with at least image');
  if (!fields) return undefined;
  const image = fields.find((f) => f.key === 'image');
  if (!image) r.problem(service.value, service.path, `${service.path} needs an image.`);
  else r.text(image.value, image.path);
  const params = fields.find((f) => f.key === 'params');
  if (!params || r.isNull(params.value)) return '';
  const tee = r.entries(params.value, params.path)?.find((f) => f.key === 'tee');
  if (!tee) return '';
  const text = r.text(tee.value, tee.path);
  if (text === undefined) return undefined;
  if (text === 'cpu' || text === 'cpu-gpu') return text;
  r.problem(tee.value, tee.path, `${tee.path} is "${text}"; Akash accepts cpu or cpu-gpu.`);
  return undefined;
}

interface Context {
  r: YamlReader;
  services: Map<string, { entry: Entry; tee: string | undefined }>;
  compute: Map<string, Entry>;
  /** Every compute profile, read once (problems in unused ones count, as in Akash). */
  resources: Map<string, ComputeResources | undefined>;
  placement: Map<string, PlacementProfile | undefined>;
  groups: Map<string, PlacementGroup & { tee: string }>;
}

/** `deployment.<service>.<placement>`: `{ profile, count }`, or undefined (problems recorded). */
function readTarget(
  r: YamlReader,
  target: Entry,
): { profile: string; profileNode: Node | null; count: number } | undefined {
  const fields = r.strictEntries(target.value, target.path, ['profile', 'count']);
  if (!fields) return undefined;
  const profileEntry = fields.find((f) => f.key === 'profile');
  const countEntry = fields.find((f) => f.key === 'count');
  if (!profileEntry || !countEntry) {
    r.problem(target.value, target.path, `${target.path} needs a profile (a compute profile) and a count.`);
    return undefined;
  }
  const profile = r.text(profileEntry.value, profileEntry.path);
  const countText = r.text(countEntry.value, countEntry.path, 'a whole number');
  if (profile === undefined || countText === undefined) return undefined;
  if (!COUNT.test(countText)) {
    r.problem(
      countEntry.value,
      countEntry.path,
      `${countEntry.path} is "${countText}"; the count is a whole number from 1.`,
    );
    return undefined;
  }
  return { profile, profileNode: profileEntry.value, count: Number(countText) };
}

/** The service, compute profile, placement profile and price a deployment entry names must exist. */
function referencesExist(
  ctx: Context,
  service: string,
  target: Entry,
  profile: string,
  profileNode: Node | null,
): boolean {
  const placement = ctx.placement.get(target.key);
  const problems: [Node | null, string][] = [];
  if (!ctx.services.has(service))
    problems.push([target.value, `there is no service named ${service} under services.`]);
  if (!ctx.compute.has(profile))
    problems.push([profileNode, `there is no compute profile named ${profile} under profiles.compute.`]);
  if (!ctx.placement.has(target.key))
    problems.push([
      target.keyNode,
      `there is no placement profile named ${target.key} under profiles.placement.`,
    ]);
  else if (placement && ctx.compute.has(profile) && !placement.pricing.has(profile))
    problems.push([
      target.keyNode,
      `profiles.placement.${target.key}.pricing has no price for ${profile}; add one.`,
    ]);
  for (const [node, message] of problems) ctx.r.problem(node, target.path, `${target.path}: ${message}`);
  return problems.length === 0;
}

/** The group of placement `name`, made on first use; a service's tee joins its requirements. */
function groupFor(
  ctx: Context,
  target: Entry,
  placement: PlacementProfile,
  tee: string,
): PlacementGroup & { tee: string } {
  const group = ctx.groups.get(target.key) ?? {
    name: target.key,
    requirements: { attributes: [...placement.attributes], signedBy: placement.signedBy },
    resources: [],
    position: ctx.r.position(placement.node),
    tee: '',
  };
  ctx.groups.set(target.key, group);
  if (tee && group.tee && tee !== group.tee)
    ctx.r.problem(
      target.keyNode,
      target.path,
      `placement ${target.key} mixes tee ${group.tee} and ${tee}; one group takes one tee type.`,
    );
  else if (tee && !group.tee) {
    group.tee = tee;
    group.requirements.attributes = [...group.requirements.attributes, { key: 'tee/type', value: tee }].sort(
      (a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
    );
  }
  return group;
}

function addUnit(ctx: Context, service: string, target: Entry): void {
  const wanted = readTarget(ctx.r, target);
  if (!wanted || !referencesExist(ctx, service, target, wanted.profile, wanted.profileNode)) return;
  const { profile, count } = wanted;
  const tee = ctx.services.get(service)?.tee;
  const placement = ctx.placement.get(target.key);
  const resources = ctx.resources.get(profile);
  const price = placement?.pricing.get(profile);
  if (!placement || !resources || !price || tee === undefined) return;
  if (tee === 'cpu-gpu' && resources.gpu.units === 0)
    ctx.r.problem(
      wanted.profileNode,
      target.path,
      `services.${service}.params.tee is cpu-gpu, but compute profile ${profile} has no GPU.`,
    );
  const unit: ResourceUnit = {
    service,
    profile,
    count,
    resources,
    price,
    position: ctx.r.position(target.keyNode),
  };
  groupFor(ctx, target, placement, tee).resources.push(unit);
}

function byKey(entries: Entry[]): Entry[] {
  return [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function build(r: YamlReader): Sdl | undefined {
  const top = r.strictEntries(
    r.root,
    '',
    TOP_LEVEL,
    'a mapping with version, services, profiles and deployment',
  );
  if (!top) return undefined;
  const get = (key: string) => top.find((e) => e.key === key);
  const version = readVersion(r, get('version'), r.root);
  for (const key of ['services', 'profiles', 'deployment'].filter((k) => !get(k)))
    r.problem(
      r.root,
      key,
      `The SDL has no ${key} section; Akash requires version, services, profiles and deployment.`,
    );
  const servicesEntry = get('services');
  const profilesEntry = get('profiles');
  const deploymentEntry = get('deployment');
  if (!servicesEntry || !profilesEntry || !deploymentEntry) return undefined;

  const services = named(r, r.entries(servicesEntry.value, 'services') ?? [], SERVICE_NAME, 'service');
  const profiles = r.strictEntries(profilesEntry.value, 'profiles', ['compute', 'placement']) ?? [];
  const computeEntry = profiles.find((p) => p.key === 'compute');
  const placementEntry = profiles.find((p) => p.key === 'placement');
  if (!computeEntry || !placementEntry)
    r.problem(profilesEntry.value, 'profiles', 'profiles needs both compute and placement.');
  const compute = named(
    r,
    computeEntry ? (r.entries(computeEntry.value, computeEntry.path) ?? []) : [],
    PROFILE_NAME,
    'compute profile',
  );
  const placement = named(
    r,
    placementEntry ? (r.entries(placementEntry.value, placementEntry.path) ?? []) : [],
    PROFILE_NAME,
    'placement profile',
  );
  const ctx: Context = {
    r,
    services: new Map(services.map((s) => [s.key, { entry: s, tee: readTee(r, s) }])),
    compute: new Map(compute.map((c) => [c.key, c])),
    resources: new Map(compute.map((c) => [c.key, readComputeProfile(r, c.value, c.path)])),
    placement: new Map(placement.map((p) => [p.key, readPlacementProfile(r, p)])),
    groups: new Map(),
  };
  const deployments =
    r.entries(deploymentEntry.value, 'deployment', 'a mapping of services to placements') ?? [];
  if (deployments.length === 0 && !r.problems.length)
    r.problem(
      deploymentEntry.value,
      'deployment',
      'deployment is empty; deploy at least one service to a placement.',
    );
  for (const dep of byKey(deployments)) {
    const targets =
      r.entries(dep.value, dep.path, 'a mapping of placement profiles to { profile, count }') ?? [];
    for (const target of byKey(targets)) addUnit(ctx, dep.key, target);
  }
  if (!version || r.problems.length) return undefined;
  const groups = [...ctx.groups.values()]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map(({ tee: _tee, ...group }) => group);
  return { version, groups };
}

/** One sentence for a person: where the (first) problem is, what it is, and what to do. */
function summary(problems: readonly SdlProblem[]): string {
  const [first] = problems;
  if (!first)
    return "The SDL could not be read as an Akash SDL; check it against Akash's SDL reference and send it again.";
  const at = `line ${first.line}, column ${first.column}`;
  if (problems.length === 1)
    return `The SDL has a problem at ${at}: ${first.message} Fix it and send the SDL again.`;
  return `The SDL has ${problems.length} problems; the first is at ${at}: ${first.message} Fix them and send the SDL again.`;
}

/** Parse an Akash SDL. Problems are listed with their line and column, first one first. */
export function parseSdl(text: string): SdlParseResult {
  if (text.length > MAX_SDL_BYTES || new TextEncoder().encode(text).byteLength > MAX_SDL_BYTES) {
    return {
      ok: false,
      message: `The SDL is larger than ${MAX_SDL_BYTES / 1024} KiB; Akash SDLs are a few kilobytes. Send the SDL alone.`,
      problems: [],
    };
  }
  const r = YamlReader.parse(text);
  const sdl = r.problems.length ? undefined : build(r);
  if (sdl) return { ok: true, sdl };
  const problems = [...r.problems].sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, message: summary(problems), problems };
}
