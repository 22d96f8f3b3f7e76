/**
 * `signedBy` as Akash evaluates it (akash-network/chain-sdk `go/node/deployment/v1beta4/
 * groupspec.go`, `GroupSpec.MatchRequirements`, at 55f1c68; run by the provider's bid engine,
 * `bidengine/order.go` `shouldBid`, and again by the chain on `MsgCreateBid`, akash-network/node
 * `x/market/handler/server.go`). Each auditor has signed a set of the provider's attributes; an
 * auditor "holds" a placement when it has signed something for the provider and its set meets
 * every placement attribute. `allOf` needs every listed auditor to hold, `anyOf` at least one;
 * with both, both rules apply. With neither, signatures do not matter.
 */
import { attributesSubsetOf } from './attribute-match.js';
import type { Attribute, SignedAttribute, SignedBy } from './types.js';

export type SignedByVerdict =
  | { met: true }
  /** `auditors`: for `allOf` the listed auditors that do not hold; for `anyOf` all of them. */
  | { met: false; rule: 'allOf' | 'anyOf'; auditors: string[] };

/** The attributes that `auditor` has signed, out of what we hold. */
export function signedByAuditor(held: readonly SignedAttribute[], auditor: string): Attribute[] {
  return held.filter((a) => a.auditors.includes(auditor)).map(({ key, value }) => ({ key, value }));
}

/**
 * Whether the placement attributes `required` are signed as `signedBy` asks, given the attributes
 * we hold and, for each, the auditors whose signatures on it we hold.
 */
export function evaluateSignedBy(
  required: readonly Attribute[],
  signedBy: SignedBy,
  held: readonly SignedAttribute[],
): SignedByVerdict {
  const holds = (auditor: string) => {
    const signed = signedByAuditor(held, auditor);
    return signed.length > 0 && attributesSubsetOf(required, signed);
  };
  const missing = signedBy.allOf.filter((a) => !holds(a));
  if (missing.length) return { met: false, rule: 'allOf', auditors: missing };
  if (signedBy.anyOf.length && !signedBy.anyOf.some(holds))
    return { met: false, rule: 'anyOf', auditors: [...signedBy.anyOf] };
  return { met: true };
}

export function signedByIsEmpty(signedBy: SignedBy): boolean {
  return signedBy.allOf.length === 0 && signedBy.anyOf.length === 0;
}
