/**
 * Attribute key patterns as Akash matches them. A requirement's key is a shell pattern matched
 * against a provider's key with Go's `path/filepath.Match` (akash-network/chain-sdk
 * `go/node/types/attributes/v1/attribute.go`, `Attribute.SubsetOf`): `*` is any run of characters
 * other than `/`, `?` one character other than `/`, `[...]` a class of single characters (`[^...]`
 * negated, `a-z` ranges; Go lets a class match `/`), `\` escapes the next character, anything else
 * stands for itself, and the whole key must match. A malformed pattern matches nothing (Akash drops
 * Go's ErrBadPattern and reads it as "no match").
 *
 * Keys Akash accepts on chain are narrower (`AttributeNameRegexpString*` in the same file); they are
 * exported here so that callers can check keys from the network by pattern before using them.
 */

/** A provider attribute key as the chain accepts it (`MsgCreateProvider`). */
export const PROVIDER_KEY_PATTERN = /^[a-zA-Z][\w/.-]{1,126}$/;
/** A requirement key as Akash validates it: the same, with one trailing `*` allowed. */
export const REQUIREMENT_KEY_PATTERN = /^[a-zA-Z][\w/.-]{1,126}[\w*]?$/;

const compiled = new Map<string, RegExp | null>();
const CACHE_LIMIT = 4096;

/** Translate one `[...]` class starting at `pattern[start] === '['`; null when malformed. */
function translateClass(pattern: string, start: number): { source: string; end: number } | null {
  let i = start + 1;
  let negated = false;
  if (pattern[i] === '^') {
    negated = true;
    i += 1;
  }
  const parts: string[] = [];
  const readChar = (): string | null => {
    const c = pattern[i];
    if (c === undefined || c === '-' || c === ']') return null;
    if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return null;
      i += 2;
      return next;
    }
    i += 1;
    return c;
  };
  let first = true;
  while (first || pattern[i] !== ']') {
    first = false;
    const lo = readChar();
    if (lo === null) return null;
    let hi = lo;
    if (pattern[i] === '-') {
      i += 1;
      const end = readChar();
      if (end === null) return null;
      hi = end;
    }
    // Go accepts a reversed range and lets it match nothing.
    if (lo <= hi)
      parts.push(lo === hi ? escapeClassChar(lo) : `${escapeClassChar(lo)}-${escapeClassChar(hi)}`);
    if (i >= pattern.length) return null;
  }
  // Unlike `*` and `?`, Go lets a class match the separator.
  const body = parts.join('');
  if (!body) return { source: negated ? '[^]' : '[]', end: i + 1 };
  return { source: negated ? `[^${body}]` : `[${body}]`, end: i + 1 };
}

function escapeClassChar(c: string): string {
  return /[\\\]^-]/.test(c) ? `\\${c}` : c;
}

function escapeLiteral(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? `\\${c}` : c;
}

function compile(pattern: string): RegExp | null {
  let source = '';
  for (let i = 0; i < pattern.length;) {
    const c = pattern[i] ?? '';
    if (c === '*') {
      source += '[^/]*';
      i += 1;
    } else if (c === '?') {
      source += '[^/]';
      i += 1;
    } else if (c === '[') {
      const cls = translateClass(pattern, i);
      if (!cls) return null;
      source += cls.source;
      i = cls.end;
    } else if (c === '\\') {
      const next = pattern[i + 1];
      if (next === undefined) return null;
      source += escapeLiteral(next);
      i += 2;
    } else {
      source += escapeLiteral(c);
      i += 1;
    }
  }
  return new RegExp(`^${source}$`);
}

/** Whether `key` matches the Akash key pattern `pattern` (Go's `filepath.Match` on `/`). */
export function keyMatches(pattern: string, key: string): boolean {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = compile(pattern);
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(pattern, re);
  }
  return re !== null && re.test(key);
}
