/**
 * `profiles.compute.<name>.resources.gpu` of an SDL, read as Akash reads it (akash-network/chain-sdk
 * `go/sdl/gpu.go` and the `gpu` part of `go/sdl/sdl-input.schema.yaml`, at 55f1c68): `units`, and
 * `attributes.vendor.nvidia` as a list of `{ model, ram, interface }` (or empty for any model).
 */
import type { Node } from 'yaml';
import { REQUIREMENT_KEY_PATTERN } from '../key-pattern.js';
import { ANY_GPU_MODEL, gpuAttributeKeys } from '../gpu-keys.js';
import type { GpuModelRequest, GpuResource } from '../types.js';
import { gpuMemoryNotation, parseGpuMemory } from './quantities.js';
import type { YamlReader } from './yaml-reader.js';

/** A model name: Akash's lower-case names, a trailing `*` pattern, or `*`; never a `/`. */
const MODEL = /^(?:\*|[A-Za-z0-9][A-Za-z0-9._-]*\*?)$/;
const UNITS = /^[0-9]{1,6}$/;

function readModel(r: YamlReader, node: Node | null, path: string): GpuModelRequest | undefined {
  const fields = r.strictEntries(
    node,
    path,
    ['model', 'ram', 'interface'],
    'a mapping with model, ram and interface',
  );
  if (!fields) return undefined;
  const get = (k: string) => fields.find((f) => f.key === k);
  const modelEntry = get('model');
  if (!modelEntry) {
    r.problem(
      node,
      path,
      `${path} names no model; Akash would build a key no provider has. Name a model, or leave nvidia empty to accept any model.`,
    );
    return undefined;
  }
  const model = r.text(modelEntry.value, modelEntry.path);
  if (model === undefined) return undefined;
  if (!MODEL.test(model)) {
    r.problem(
      modelEntry.value,
      modelEntry.path,
      `${modelEntry.path} is "${model}"; a model is a name such as rtx4090 (letters, digits, ".", "_", "-").`,
    );
    return undefined;
  }
  const request: GpuModelRequest = { model };
  const ramEntry = get('ram');
  if (ramEntry) {
    const text = r.text(ramEntry.value, ramEntry.path);
    if (text === undefined) return undefined;
    const ram = parseGpuMemory(text);
    if (!ram.ok) {
      r.problem(ramEntry.value, ramEntry.path, `${ramEntry.path}: ${ram.problem}.`);
      return undefined;
    }
    request.ram = gpuMemoryNotation(ram.value);
  }
  const ifaceEntry = get('interface');
  if (ifaceEntry) {
    const text = r.text(ifaceEntry.value, ifaceEntry.path);
    if (text === undefined) return undefined;
    if (text !== 'pcie' && text !== 'sxm') {
      r.problem(
        ifaceEntry.value,
        ifaceEntry.path,
        `${ifaceEntry.path} is "${text}"; Akash accepts pcie or sxm.`,
      );
      return undefined;
    }
    request.interface = text;
  }
  return request;
}

function readModels(r: YamlReader, attributes: Node | null, path: string): GpuModelRequest[] | undefined {
  const top = r.strictEntries(attributes, path, ['vendor'], 'a mapping with vendor');
  if (!top) return undefined;
  const vendorEntry = top.find((e) => e.key === 'vendor');
  if (!vendorEntry || r.isNull(vendorEntry.value)) {
    r.problem(
      vendorEntry?.value ?? attributes,
      `${path}.vendor`,
      `${path}.vendor must name at least one vendor (nvidia).`,
    );
    return undefined;
  }
  const vendors = r.strictEntries(vendorEntry.value, vendorEntry.path, ['nvidia']);
  const nvidia = vendors?.find((v) => v.key === 'nvidia');
  if (!vendors) return undefined;
  if (!nvidia) {
    r.problem(
      vendorEntry.value,
      vendorEntry.path,
      `${vendorEntry.path} must name nvidia, the only GPU vendor Akash SDLs take.`,
    );
    return undefined;
  }
  if (r.isNull(nvidia.value)) return [];
  const list = r.items(nvidia.value, nvidia.path, 'a list of models, or empty for any model');
  if (!list) return undefined;
  const models = list.map((item, i) => readModel(r, item, `${nvidia.path}[${i}]`));
  return models.every((m) => m !== undefined) ? models : undefined;
}

/** The GPU part of a compute profile; `{ units: 0 }` when there is none. */
export function readGpuResource(
  r: YamlReader,
  node: Node | null | undefined,
  path: string,
): GpuResource | undefined {
  if (node === undefined || r.isNull(node)) return { units: 0, models: [], attributes: [] };
  const fields = r.strictEntries(node, path, ['units', 'attributes']);
  if (!fields) return undefined;
  const unitsEntry = fields.find((f) => f.key === 'units');
  const attrEntry = fields.find((f) => f.key === 'attributes');
  let units = 0;
  if (unitsEntry) {
    const text = r.text(unitsEntry.value, unitsEntry.path, 'a whole number');
    if (text === undefined) return undefined;
    if (!UNITS.test(text)) {
      r.problem(
        unitsEntry.value,
        unitsEntry.path,
        `${unitsEntry.path} is "${text}"; GPU units are a whole number, e.g. 1.`,
      );
      return undefined;
    }
    units = Number(text);
  }
  if (!attrEntry) {
    if (units > 0) {
      r.problem(
        node,
        path,
        `${path} asks for ${units} GPU(s) but has no attributes; Akash requires attributes.vendor.nvidia (a list of models, or empty for any model).`,
      );
      return undefined;
    }
    return { units, models: [], attributes: [] };
  }
  const requested = readModels(r, attrEntry.value, attrEntry.path);
  if (!requested) return undefined;
  const attributes = gpuAttributeKeys(requested);
  const keys = attributes.map((a) => a.key);
  const duplicate = keys.find((k, i) => keys.indexOf(k) !== i);
  if (duplicate) {
    r.problem(
      attrEntry.value,
      attrEntry.path,
      `${attrEntry.path} lists the same GPU twice (${duplicate}); list each model once.`,
    );
    return undefined;
  }
  const bad = keys.find((k) => !REQUIREMENT_KEY_PATTERN.test(k));
  if (bad) {
    r.problem(
      attrEntry.value,
      attrEntry.path,
      `${attrEntry.path} makes the key "${bad}", which Akash refuses (at most 128 characters, a "*" only at the end).`,
    );
    return undefined;
  }
  return { units, models: requested.length ? requested : [{ model: ANY_GPU_MODEL }], attributes };
}
