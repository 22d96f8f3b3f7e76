/**
 * The enroll-server's layout rules (docs/architecture.md "Which folder may import which") as a pure
 * check over source texts: the import graph between capabilities, no import cycle between files,
 * SQL only in the engines' folders (`sqlite/`, `postgres/`), and no root repositories used inside
 * a transaction callback.
 */
import { dirname, join, normalize } from 'node:path';

export const CAPABILITIES = [
  'core',
  'accounts',
  'enrollment',
  'nodes',
  'network',
  'control',
  'artifacts',
  'payouts',
  'notifications',
  'audits',
  'replicas',
  'rollouts',
  'attestations',
  'web',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Which capabilities each may import (besides itself and `protocol/`). */
export const ALLOWED: Record<Capability, readonly Capability[]> = {
  core: [],
  accounts: ['core'],
  nodes: ['core'],
  enrollment: ['core', 'accounts', 'nodes'],
  network: ['core', 'nodes'],
  control: ['core', 'nodes', 'network'],
  artifacts: ['core', 'nodes', 'control'],
  payouts: ['core', 'accounts', 'nodes'],
  notifications: ['core', 'accounts', 'nodes'],
  audits: ['core', 'nodes', 'control'],
  replicas: ['core', 'nodes', 'control'],
  rollouts: ['core', 'nodes', 'control', 'artifacts'],
  attestations: ['core', 'nodes', 'payouts', 'audits'],
  web: [
    'core',
    'accounts',
    'enrollment',
    'nodes',
    'payouts',
    'notifications',
    'artifacts',
    'audits',
    'attestations',
  ],
};

export interface SourceFile {
  /** Repository-relative, e.g. `enroll-server/nodes/node-service.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  path: string;
  rule: 'import' | 'cycle' | 'sql' | 'transaction';
  message: string;
}

type Part = Capability | 'composition' | 'protocol' | 'agent' | 'other';

/** Where a file belongs: a capability, the composition root (top-level server files), or a part. */
export function partOf(path: string): Part {
  const segments = normalize(path).split('/');
  if (segments[0] === 'protocol') return 'protocol';
  if (segments[0] === 'agent') return 'agent';
  if (segments[0] !== 'enroll-server') return 'other';
  if (segments.length === 2) return 'composition';
  const capability = CAPABILITIES.find((c) => c === segments[1]);
  return capability ?? 'other';
}

const IMPORT =
  /(?:^|[\s;])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

export function importsOf(file: SourceFile): string[] {
  const found: string[] = [];
  for (const m of file.text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2];
    if (spec?.startsWith('.')) found.push(normalize(join(dirname(file.path), spec)));
  }
  return found;
}

function checkImports(file: SourceFile): Violation[] {
  const from = partOf(file.path);
  const out: Violation[] = [];
  for (const target of importsOf(file)) {
    const to = partOf(target);
    const edge = `${file.path} imports ${target}`;
    if (from === 'protocol' && to !== 'protocol')
      out.push({ path: file.path, rule: 'import', message: `${edge}: protocol/ imports nothing else` });
    if (from === 'agent' && to !== 'agent' && to !== 'protocol')
      out.push({ path: file.path, rule: 'import', message: `${edge}: the agent imports only protocol/` });
    if (from === 'composition' || from === 'protocol' || from === 'agent' || from === 'other') continue;
    if (to === 'composition') {
      out.push({
        path: file.path,
        rule: 'import',
        message: `${edge}: capabilities never import the composition root (app.ts, repositories.ts, sqlite-store.ts, postgres-store.ts, main.ts)`,
      });
    } else if (to === 'agent' || to === 'other') {
      out.push({
        path: file.path,
        rule: 'import',
        message: `${edge}: the server imports only itself and protocol/`,
      });
    } else if (to !== 'protocol' && to !== from && !ALLOWED[from].includes(to)) {
      out.push({
        path: file.path,
        rule: 'import',
        message: `${edge}: ${from}/ may import ${['protocol', ...ALLOWED[from]].join(', ')}, not ${to}/`,
      });
    }
  }
  return out;
}

/** SQL statements and the database drivers belong to repository implementations (`…/sqlite/…`, `…/postgres/…`). */
const SQL =
  /\b(SELECT\s+(?:[\w*]|\()|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|CREATE\s+(?:TABLE|INDEX)|ALTER\s+TABLE|BEGIN\s+IMMEDIATE|SAVEPOINT\s+\w)|\.prepare\s*[<(]|\.pragma\s*\(|from\s+['"](?:better-sqlite3|pg)['"]/;

function checkSql(file: SourceFile): Violation[] {
  if (partOf(file.path) === 'other' || partOf(file.path) === 'protocol' || partOf(file.path) === 'agent')
    return [];
  if (/\/(?:sqlite|postgres)\//.test(file.path)) return [];
  const match = SQL.exec(file.text);
  if (!match) return [];
  const line = file.text.slice(0, match.index).split('\n').length;
  return [
    {
      path: file.path,
      rule: 'sql',
      message: `${file.path}:${line} has SQL or SQLite calls (${match[0].trim()}): they belong in a repository under a sqlite/ or postgres/ folder`,
    },
  ];
}

/** The text of every `transaction(async (…) => …)` callback, by its matching parenthesis. */
export function transactionBodies(text: string): { at: number; body: string }[] {
  const bodies: { at: number; body: string }[] = [];
  for (const m of text.matchAll(/\.transaction\(\s*async\s*\(/g)) {
    const open = m.index + m[0].indexOf('(');
    let depth = 0;
    let end = open;
    for (; end < text.length; end += 1) {
      if (text[end] === '(') depth += 1;
      else if (text[end] === ')' && --depth === 0) break;
    }
    bodies.push({ at: m.index, body: text.slice(open, end + 1) });
  }
  return bodies;
}

/** Inside a transaction the root repositories would wait for that very transaction: use `tx`. */
function checkTransactions(file: SourceFile): Violation[] {
  return transactionBodies(file.text)
    .filter(({ body }) => /\brepos\.\w/.test(body))
    .map(({ at }) => ({
      path: file.path,
      rule: 'transaction' as const,
      message: `${file.path}:${file.text.slice(0, at).split('\n').length}: a transaction callback uses the root \`repos\`; inside it use the callback's \`tx\``,
    }));
}

/** Files that import each other, directly or round a longer loop (type imports included). */
function checkCycles(files: readonly SourceFile[]): Violation[] {
  const graph = new Map(files.map((f) => [f.path, importsOf(f).map((t) => t.replace(/\.js$/, '.ts'))]));
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const out: Violation[] = [];
  const visit = (path: string) => {
    state.set(path, 'open');
    stack.push(path);
    for (const next of graph.get(path) ?? []) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 'open') {
        const loop = [...stack.slice(stack.indexOf(next)), next];
        out.push({ path, rule: 'cycle', message: `import cycle: ${loop.join(' → ')}` });
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(path, 'done');
  };
  for (const f of files) if (!state.has(f.path)) visit(f.path);
  return out;
}

export function checkArchitecture(files: readonly SourceFile[]): Violation[] {
  return [
    ...files.flatMap((f) => [...checkImports(f), ...checkSql(f), ...checkTransactions(f)]),
    ...checkCycles(files),
  ];
}
