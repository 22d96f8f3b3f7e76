/**
 * Reading an SDL's YAML tree with positions: every problem is reported at the line and column the
 * YAML parser gives the offending node, so a person can find it. Scalars are read as the text
 * written (as Go's yaml.v3 hands them to Akash's decoder: `2.0` stays "2.0", `true` is "true").
 * Aliases are followed (at most `MAX_ALIASES` times, so an alias bomb cannot blow up), and `<<`
 * merge keys are honoured as yaml.v3 honours them: explicit keys win over merged ones.
 */
import {
  LineCounter,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parseDocument,
  type Document,
  type Node,
  type Scalar,
} from 'yaml';
import type { SdlPosition, SdlProblem } from '../types.js';

export const MAX_ALIASES = 100;

/** The YAML parser's words for the mistakes people make most, said for people. */
const YAML_WORDS: Partial<Record<string, string>> = {
  DUPLICATE_KEY: 'This key appears twice in the same mapping; keep one of them.',
  MULTIPLE_DOCS: 'The SDL holds more than one YAML document (a second ---); send one document.',
  TAB_AS_INDENT: 'Tabs are not allowed for indentation in YAML; indent with spaces.',
};

export interface Entry {
  key: string;
  keyNode: Node;
  /** The value, aliases resolved; null for `key:` with nothing after it. */
  value: Node | null;
  path: string;
}

/** A scalar as written: strings as parsed, anything else (`2.0`, `true`) in its source form. */
function scalarText(s: Scalar): string {
  if (typeof s.value === 'string') return s.value;
  if (s.source !== undefined) return s.source;
  return typeof s.value === 'number' || typeof s.value === 'boolean' ? String(s.value) : '';
}

/** How a path reads at the start of a sentence: the document itself has none. */
export function label(path: string): string {
  return path || 'The SDL';
}

export class YamlReader {
  readonly problems: SdlProblem[] = [];
  private aliases = 0;
  private halted = false;

  private constructor(
    readonly root: Node | null,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parse `text`; YAML syntax errors are recorded as problems. */
  static parse(text: string): YamlReader {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
    const reader = new YamlReader(doc.contents, doc, lines);
    for (const error of doc.errors) {
      const { line, col } = lines.linePos(error.pos[0]);
      const message =
        YAML_WORDS[error.code] ?? `${error.message.replace(/ at line \d+, column \d+[\s\S]*$/, '')}.`;
      reader.problems.push({ line, column: col, path: '', message: `${message} (YAML ${error.code})` });
    }
    return reader;
  }

  position(node: Node | null | undefined): SdlPosition {
    const offset = node?.range?.[0] ?? 0;
    const { line, col } = this.lines.linePos(offset);
    return { line, column: col };
  }

  problem(node: Node | null | undefined, path: string, message: string): void {
    if (!this.halted) this.problems.push({ ...this.position(node), path, message });
  }

  /** The node an alias stands for; null past the alias limit (recorded once). */
  resolve(node: Node | null | undefined): Node | null {
    let current: Node | null | undefined = node;
    while (current && isAlias(current)) {
      this.aliases += 1;
      if (this.aliases > MAX_ALIASES) {
        if (!this.halted)
          this.problem(
            current,
            '',
            `The SDL uses more than ${MAX_ALIASES} YAML aliases; write it out in full.`,
          );
        // Past the limit, what follows is noise from the nodes we stopped reading.
        this.halted = true;
        return null;
      }
      current = current.resolve(this.doc) ?? null;
    }
    return current ?? null;
  }

  isNull(node: Node | null): boolean {
    return node === null || (isScalar(node) && node.value === null);
  }

  /** The text a scalar was written as; undefined (and a problem) for anything else. */
  text(node: Node | null, path: string, what = 'a text value'): string | undefined {
    const n = this.resolve(node);
    if (n && isScalar(n) && n.value !== null) return scalarText(n);
    this.problem(
      n ?? node,
      path,
      `${label(path)} must be ${what}${n && !this.isNull(n) ? '' : ', but it is empty'}.`,
    );
    return undefined;
  }

  /** The entries of a mapping; undefined (and a problem) when it is not one. */
  entries(node: Node | null, path: string, what = 'a mapping of names to values'): Entry[] | undefined {
    const n = this.resolve(node);
    if (!n || !isMap(n)) {
      this.problem(n ?? node, path, `${label(path)} must be ${what}.`);
      return undefined;
    }
    const own: Entry[] = [];
    const merged: Entry[] = [];
    for (const pair of n.items) {
      const keyNode = this.resolve(pair.key as Node | null);
      if (!keyNode || !isScalar(keyNode) || keyNode.value === null) {
        this.problem(keyNode, path, `${label(path)} has a key that is not a plain name.`);
        continue;
      }
      const key = scalarText(keyNode);
      const value = this.resolve(pair.value as Node | null);
      if (key === '<<' && keyNode.type === 'PLAIN') merged.push(...this.mergeSources(value, path));
      else own.push({ key, keyNode, value, path: path ? `${path}.${key}` : key });
    }
    const ownKeys = new Set(own.map((e) => e.key));
    const extra = merged.filter(
      (e, i) => !ownKeys.has(e.key) && merged.findIndex((m) => m.key === e.key) === i,
    );
    return [...own, ...extra];
  }

  /** `entries`, with a problem for each key not in `allowed`. */
  strictEntries(
    node: Node | null,
    path: string,
    allowed: readonly string[],
    what?: string,
  ): Entry[] | undefined {
    const list = this.entries(node, path, what);
    if (!list) return undefined;
    for (const e of list.filter((x) => !allowed.includes(x.key)))
      this.problem(
        e.keyNode,
        e.path,
        `${label(path)} has an unknown field "${e.key}"; Akash accepts ${allowed.join(', ')}.`,
      );
    return list.filter((e) => allowed.includes(e.key));
  }

  /** The items of a sequence; undefined (and a problem) when it is not one. */
  items(node: Node | null, path: string, what = 'a list'): (Node | null)[] | undefined {
    const n = this.resolve(node);
    if (!n || !isSeq(n)) {
      this.problem(n ?? node, path, `${label(path)} must be ${what}.`);
      return undefined;
    }
    return n.items.map((item) => this.resolve(item as Node | null));
  }

  isSequence(node: Node | null): boolean {
    return node !== null && isSeq(node);
  }

  private mergeSources(value: Node | null, path: string): Entry[] {
    if (value && isSeq(value))
      return value.items.flatMap((item) => this.entries(this.resolve(item as Node | null), path) ?? []);
    return this.entries(value, path, 'a mapping (the target of a << merge key)') ?? [];
  }
}
