/**
 * Regenerates `protocol/nvidia-driver-support.json`: which NVIDIA driver branch first supports each
 * PCI device id, from the lists Debian ships (nothing typed in by hand):
 *
 *   npx tsx scripts/nvidia-support-table.ts --ids nvidia.ids --json 535=supported-gpus-535.json \
 *     --json 550=supported-gpus-550.json [--json 555=...] --pci-ids pci.ids [--source TEXT ...]
 *
 * - `--ids`: nvidia-detect's `/usr/share/nvidia/nvidia.ids` for the image's branch (Debian keeps the
 *   data-centre ids there that NVIDIA's own list leaves out).
 * - `--json BRANCH=FILE`: NVIDIA's `supported-gpus.json` from Debian's nvidia-driver package of that
 *   branch (`/usr/share/doc/nvidia-driver/supported-gpus.json.gz`, unzipped); legacy entries are skipped.
 * - `--pci-ids`: the PCI id database (Debian's `pci.ids` package) for the Blackwell chips no Debian
 *   driver lists yet: GB100/GB102/GB20x need branch 570, Blackwell Ultra (GB110/GB112) 580, as
 *   NVIDIA's release notes for those branches say.
 * docs/iso.md ("Which GPUs the image's driver runs") says how to fetch the inputs with apt.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

interface Chip {
  devid: string;
  name: string;
  legacybranch?: string;
}

interface Device {
  id: string;
  name: string;
}

function chipsOf(file: string): Device[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { chips: Chip[] };
  return parsed.chips
    .filter((c) => !c.legacybranch)
    .map((c) => ({ id: c.devid.toLowerCase().replace(/^0x/, ''), name: c.name }))
    .filter((d) => /^[0-9a-f]{4}$/.test(d.id));
}

function idsFile(file: string): Device[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim().toLowerCase())
    .filter((l) => /^10de[0-9a-f]{4}$/.test(l))
    .map((l) => ({ id: l.slice(4), name: '' }));
}

/** NVIDIA devices of pci.ids whose name starts with a Blackwell chip code, by the branch they need. */
function blackwell(file: string): { 570: Device[]; 580: Device[] } {
  const out = { 570: [] as Device[], 580: [] as Device[] };
  let nvidia = false;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (/^[0-9a-f]{4}\s/.test(line)) nvidia = line.startsWith('10de');
    const m = nvidia ? /^\t([0-9a-f]{4})\s+(GB(\d{3})\S*)(?:\s+\[(.*)\])?/.exec(line) : null;
    if (!m || / Audio /.test(line)) continue;
    const chip = Number(m[3]);
    // `GB202 [GeForce RTX 5090]` → `GeForce RTX 5090`; a bare chip code stays as it is.
    const device = { id: m[1]!, name: m[4] ?? m[2]! };
    if (chip === 100 || chip === 102 || (chip >= 200 && chip < 300)) out[570].push(device);
    else if (chip === 110 || chip === 112) out[580].push(device);
  }
  return out;
}

function main(): void {
  const { values } = parseArgs({
    strict: true,
    options: {
      ids: { type: 'string' },
      json: { type: 'string', multiple: true },
      'pci-ids': { type: 'string' },
      source: { type: 'string', multiple: true },
      out: { type: 'string' },
    },
  });
  if (!values.ids || !values.json?.length || !values['pci-ids'])
    throw new Error('--ids, at least one --json BRANCH=FILE and --pci-ids are required.');
  const lists = values.json.map((spec) => {
    const [branch, file] = spec.split('=');
    if (!branch || !file || !/^\d{3}$/.test(branch)) throw new Error(`--json "${spec}" is not BRANCH=FILE.`);
    return { branch: Number(branch), ids: chipsOf(file) };
  });
  lists.sort((a, b) => a.branch - b.branch);
  const imageBranch = lists[0]!.branch;
  const seen = new Set<string>();
  const branches: Record<string, string[]> = {};
  // Names only for what the image's driver does not run (the messages name those GPUs; Debian's
  // older pci.ids in the image calls a new card just "Device").
  const names: Record<string, string> = {};
  const add = (branch: number, devices: readonly Device[]) => {
    const fresh = [...new Set(devices.map((d) => d.id))].filter((id) => !seen.has(id)).sort();
    for (const id of fresh) seen.add(id);
    if (fresh.length) branches[String(branch)] = fresh;
    if (branch !== imageBranch)
      for (const d of devices) if (fresh.includes(d.id) && d.name && !names[d.id]) names[d.id] = d.name;
  };
  add(imageBranch, [...idsFile(values.ids), ...lists[0]!.ids]);
  for (const list of lists.slice(1)) add(list.branch, list.ids);
  const bw = blackwell(values['pci-ids']);
  add(570, bw[570]);
  add(580, bw[580]);
  const table = { sources: values.source ?? [], imageBranch, branches, names };
  const out = values.out ?? join(import.meta.dirname, '../protocol/nvidia-driver-support.json');
  writeFileSync(out, `${JSON.stringify(table, null, 2)}\n`);
  process.stdout.write(
    `${out}: ${Object.entries(branches)
      .map(([b, ids]) => `${b}: ${ids.length} ids`)
      .join(', ')}\n`,
  );
}

main();
