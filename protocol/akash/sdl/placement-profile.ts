/**
 * `profiles.placement.<name>` of an SDL: the attributes a provider must have, the auditors who must
 * have signed them (`signedBy`), and the most the deployer pays per compute profile (`pricing`),
 * read as Akash reads them (akash-network/chain-sdk `go/sdl/placement.go`, `pricing.go`,
 * `coin.go` and `v2.go` `v2ProfilePlacement`, at 55f1c68). Akash itself does not restrict the
 * texts; we refuse only what could never be an attribute, an address or a price (control
 * characters, spaces, overlong texts), so that nothing odd travels on into a reply or a log.
 */
import type { Node } from 'yaml';
import type { Attribute, Price, SignedBy } from '../types.js';
import type { Entry, YamlReader } from './yaml-reader.js';

/** A key: a letter, then printable characters (Akash's pattern characters `* ? [ ]` included). */
const ATTRIBUTE_KEY = /^[A-Za-z][\x21-\x7e]{0,127}$/;
const ATTRIBUTE_VALUE = /^\P{Cc}{0,256}$/u;
const AUDITOR = /^[\x21-\x7e]{1,128}$/;
/** A Cosmos SDK denomination (`uakt`, `uact`, `ibc/…`). */
const DENOM = /^[a-zA-Z][a-zA-Z0-9/:._-]{2,127}$/;
/** A decimal amount, at most 18 decimals as Cosmos `LegacyDec` holds. */
const AMOUNT = /^[0-9]{1,30}(?:\.[0-9]{1,18})?$/;

export interface PlacementProfile {
  attributes: Attribute[];
  signedBy: SignedBy;
  /** Price per compute profile; undefined for one whose price has a problem (already recorded). */
  pricing: Map<string, Price | undefined>;
  node: Node | null;
}

function readAttributes(r: YamlReader, entry: Entry): Attribute[] | undefined {
  const list = r.entries(entry.value, entry.path, 'a mapping of attribute names to values');
  if (!list) return undefined;
  const out: Attribute[] = [];
  for (const e of list) {
    if (!ATTRIBUTE_KEY.test(e.key)) {
      r.problem(
        e.keyNode,
        e.path,
        `${entry.path} has the key "${e.key}", which cannot be an attribute (a letter, then up to 127 printable characters).`,
      );
      continue;
    }
    const value = r.text(e.value, e.path);
    if (value === undefined) continue;
    if (!ATTRIBUTE_VALUE.test(value))
      r.problem(e.value, e.path, `${e.path} holds control characters or more than 256 characters.`);
    else out.push({ key: e.key, value });
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function readAuditors(r: YamlReader, entry: Entry | undefined): string[] | undefined {
  if (!entry || r.isNull(entry.value)) return [];
  const items = r.items(entry.value, entry.path, 'a list of auditor addresses');
  if (!items) return undefined;
  const out: string[] = [];
  items.forEach((item, i) => {
    const text = r.text(item, `${entry.path}[${i}]`, 'an auditor address');
    if (text === undefined) return;
    if (AUDITOR.test(text)) out.push(text);
    else
      r.problem(
        item,
        `${entry.path}[${i}]`,
        `${entry.path}[${i}] is not an auditor address (printable characters, no spaces).`,
      );
  });
  return out.length === items.length ? out : undefined;
}

function readSignedBy(r: YamlReader, entry: Entry | undefined): SignedBy | undefined {
  if (!entry || r.isNull(entry.value)) return { allOf: [], anyOf: [] };
  const fields = r.strictEntries(entry.value, entry.path, ['allOf', 'anyOf']);
  if (!fields) return undefined;
  const allOf = readAuditors(
    r,
    fields.find((f) => f.key === 'allOf'),
  );
  const anyOf = readAuditors(
    r,
    fields.find((f) => f.key === 'anyOf'),
  );
  return allOf && anyOf ? { allOf, anyOf } : undefined;
}

function readPrice(r: YamlReader, entry: Entry): Price | undefined {
  const fields = r.strictEntries(
    entry.value,
    entry.path,
    ['denom', 'amount'],
    'a mapping with denom and amount',
  );
  if (!fields) return undefined;
  const denomEntry = fields.find((f) => f.key === 'denom');
  const amountEntry = fields.find((f) => f.key === 'amount');
  if (!denomEntry || !amountEntry) {
    r.problem(entry.value, entry.path, `${entry.path} needs both denom (e.g. uakt) and amount.`);
    return undefined;
  }
  const denom = r.text(denomEntry.value, denomEntry.path);
  const amount = r.text(amountEntry.value, amountEntry.path, 'a number');
  if (denom === undefined || amount === undefined) return undefined;
  if (!DENOM.test(denom)) {
    r.problem(
      denomEntry.value,
      denomEntry.path,
      `${denomEntry.path} is "${denom}", not a denomination such as uakt or uact.`,
    );
    return undefined;
  }
  if (!AMOUNT.test(amount) || /^[0.]+$/.test(amount)) {
    r.problem(
      amountEntry.value,
      amountEntry.path,
      `${amountEntry.path} is "${amount}"; write a positive number with at most 18 decimals.`,
    );
    return undefined;
  }
  return { denom, amount };
}

/** One placement profile; undefined when it has problems (recorded on `r`). */
export function readPlacementProfile(r: YamlReader, entry: Entry): PlacementProfile | undefined {
  const fields = r.strictEntries(entry.value, entry.path, ['attributes', 'signedBy', 'pricing']);
  if (!fields) return undefined;
  const attrEntry = fields.find((f) => f.key === 'attributes');
  const attributes = attrEntry && !r.isNull(attrEntry.value) ? readAttributes(r, attrEntry) : [];
  const signedBy = readSignedBy(
    r,
    fields.find((f) => f.key === 'signedBy'),
  );
  const pricingEntry = fields.find((f) => f.key === 'pricing');
  if (!pricingEntry) {
    r.problem(
      entry.value,
      entry.path,
      `${entry.path} needs pricing: the most you pay per block for each compute profile.`,
    );
    return undefined;
  }
  const prices = r.entries(pricingEntry.value, pricingEntry.path, 'a mapping of compute profiles to prices');
  if (!attributes || !signedBy || !prices) return undefined;
  const pricing = new Map(prices.map((p) => [p.key, readPrice(r, p)]));
  return { attributes, signedBy, pricing, node: entry.keyNode };
}
