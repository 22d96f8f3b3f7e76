/**
 * `profiles.compute.<name>` of an SDL: CPU, memory, storage and GPU, read as Akash reads them
 * (akash-network/chain-sdk `go/sdl/resources.go`, `cpu.go`, `memory.go`, `storage.go`, at 55f1c68).
 * Storage attributes are normalised as Akash does: `persistent` defaults to false, a persistent
 * volume without a class gets `default`, `ram` cannot be persistent, and an ephemeral volume takes
 * no other class.
 */
import type { Node } from 'yaml';
import type { Attribute, ComputeResources, StorageVolume } from '../types.js';
import { readGpuResource } from './gpu-request.js';
import { parseByteSize, parseCpuUnits } from './quantities.js';
import type { Entry, YamlReader } from './yaml-reader.js';

const STORAGE_CLASSES = ['default', 'beta1', 'beta2', 'beta3', 'ram'];
const TRUE = ['true', 'on', 'yes'];
const FALSE = ['false', 'off', 'no'];

function field(list: Entry[], key: string): Entry | undefined {
  return list.find((e) => e.key === key);
}

function readCpu(r: YamlReader, node: Node | null, path: string): number | undefined {
  const fields = r.strictEntries(node, path, ['units', 'attributes']);
  const units = fields && field(fields, 'units');
  if (!fields) return undefined;
  if (!units) {
    r.problem(node, path, `${path} needs units, e.g. 0.5 or 500m.`);
    return undefined;
  }
  const text = r.text(units.value, units.path);
  if (text === undefined) return undefined;
  const cpu = parseCpuUnits(text);
  if (!cpu.ok || cpu.value <= 0) {
    r.problem(
      units.value,
      units.path,
      `${units.path}: ${cpu.ok ? `"${text}" is no CPU at all` : cpu.problem}.`,
    );
    return undefined;
  }
  const attributes = field(fields, 'attributes');
  if (attributes) r.strictEntries(attributes.value, attributes.path, ['arch']);
  return cpu.value;
}

function readSize(
  r: YamlReader,
  entry: Entry | undefined,
  owner: Node | null,
  path: string,
): number | undefined {
  if (!entry) {
    r.problem(owner, path, `${path} needs a size, e.g. 512Mi.`);
    return undefined;
  }
  const text = r.text(entry.value, entry.path);
  if (text === undefined) return undefined;
  const size = parseByteSize(text);
  if (!size.ok) r.problem(entry.value, entry.path, `${entry.path}: ${size.problem}.`);
  return size.ok ? size.value : undefined;
}

function storageAttributes(r: YamlReader, entry: Entry): Attribute[] | undefined {
  const fields = r.strictEntries(entry.value, entry.path, ['persistent', 'class']);
  if (!fields) return undefined;
  const raw = new Map<string, string>();
  for (const f of fields) {
    const text = r.text(f.value, f.path);
    if (text === undefined) return undefined;
    raw.set(f.key, text);
  }
  const persistent = raw.get('persistent') ?? 'false';
  const cls = raw.get('class') ?? '';
  const at = fields.find((f) => f.key === 'class') ?? entry;
  if (cls === '' && persistent === 'true') raw.set('class', 'default');
  if (cls === 'ram' && persistent !== 'false') {
    r.problem(
      at.value,
      entry.path,
      `${entry.path}: the ram class is memory and cannot be persistent; set persistent: false.`,
    );
    return undefined;
  }
  if (cls !== '' && cls !== 'ram' && persistent === 'false') {
    r.problem(
      at.value,
      entry.path,
      `${entry.path}: class ${cls} is for persistent storage; set persistent: true or drop the class.`,
    );
    return undefined;
  }
  if (!TRUE.includes(persistent) && !FALSE.includes(persistent)) {
    r.problem(entry.value, entry.path, `${entry.path}.persistent is "${persistent}"; write true or false.`);
    return undefined;
  }
  raw.set('persistent', TRUE.includes(persistent) ? 'true' : 'false');
  const finalClass = raw.get('class');
  if (finalClass !== undefined && !STORAGE_CLASSES.includes(finalClass)) {
    r.problem(
      at.value,
      entry.path,
      `${entry.path}.class is "${finalClass}"; Akash knows ${STORAGE_CLASSES.join(', ')}.`,
    );
    return undefined;
  }
  return [...raw].map(([key, value]) => ({ key, value })).sort((a, b) => (a.key < b.key ? -1 : 1));
}

function readVolume(
  r: YamlReader,
  node: Node | null,
  path: string,
  single: boolean,
): StorageVolume | undefined {
  const fields = r.strictEntries(node, path, ['name', 'size', 'attributes']);
  if (!fields) return undefined;
  const nameEntry = field(fields, 'name');
  const name = single || !nameEntry ? 'default' : r.text(nameEntry.value, nameEntry.path);
  const bytes = readSize(r, field(fields, 'size'), node, path);
  const attrEntry = field(fields, 'attributes');
  const attributes = attrEntry ? storageAttributes(r, attrEntry) : [];
  if (name === undefined || bytes === undefined || attributes === undefined) return undefined;
  return { name, bytes, attributes };
}

function readStorage(r: YamlReader, node: Node | null, path: string): StorageVolume[] | undefined {
  const list = r.isSequence(node)
    ? (r.items(node, path) ?? []).map((item, i) => readVolume(r, item, `${path}[${i}]`, false))
    : [readVolume(r, node, path, true)];
  if (!list.every((v) => v !== undefined)) return undefined;
  const names = list.map((v) => v.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) {
    r.problem(node, path, `${path} has two volumes named "${dup}"; give each volume its own name.`);
    return undefined;
  }
  return list;
}

/** One compute profile's resources; undefined when it has problems (recorded on `r`). */
export function readComputeProfile(
  r: YamlReader,
  node: Node | null,
  path: string,
): ComputeResources | undefined {
  const top = r.strictEntries(node, path, ['resources']);
  if (!top) return undefined;
  const res = field(top, 'resources');
  if (!res) {
    r.problem(node, path, `${path} needs resources (cpu, memory, storage).`);
    return undefined;
  }
  const fields = r.strictEntries(res.value, res.path, ['cpu', 'memory', 'storage', 'gpu']);
  if (!fields) return undefined;
  const need = (key: string) => {
    const e = field(fields, key);
    if (!e) r.problem(res.value, res.path, `${res.path} needs ${key}.`);
    return e;
  };
  const cpuEntry = need('cpu');
  const memEntry = need('memory');
  const storageEntry = need('storage');
  const cpuMillis = cpuEntry && readCpu(r, cpuEntry.value, cpuEntry.path);
  const memFields = memEntry && r.strictEntries(memEntry.value, memEntry.path, ['size']);
  const memoryBytes =
    memEntry && memFields && readSize(r, field(memFields, 'size'), memEntry.value, memEntry.path);
  const storage = storageEntry && readStorage(r, storageEntry.value, storageEntry.path);
  const gpuEntry = field(fields, 'gpu');
  const gpu = readGpuResource(r, gpuEntry?.value, gpuEntry?.path ?? `${res.path}.gpu`);
  if (cpuMillis === undefined || memoryBytes === undefined || !storage || !gpu) return undefined;
  return { cpuMillis, memoryBytes, storage, gpu };
}
