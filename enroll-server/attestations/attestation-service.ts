/**
 * Attestations (DESIGN.md "Audited attributes, placement and the performance board"): the signed
 * statement of what our audits verified about one node, the provider's attributes from attested
 * nodes only (signed, with how to publish them on chain), SDL placement over the attested fleet,
 * and the public performance board. Signatures are made on request from the stored audit state
 * (Ed25519 is deterministic: the same pass gives the same JWS), so a failed audit withdraws the
 * attestation at once and no signed statement outlives what the database says.
 */
import { CompactSign } from 'jose';
import type { ProviderAttribute } from '../../protocol/attributes.js';
import {
  type FleetNode,
  type PlacementMatch,
  matchPlacements,
  parseSdl,
} from '../../protocol/akash/index.js';
import { NotAttestedError, ValidationError } from '../core/errors.js';
import type { NodeRecord } from '../nodes/node-repository.js';
import type { PayoutRepository } from '../payouts/payout-repository.js';
import { cardInForce } from '../payouts/rate-cards.js';
import type { AttestedFleet, AttestedNode } from './attested-fleet.js';
import type { Auditor } from './auditor.js';
import { type ChainPublication, chainPublication } from './chain-publish.js';
import {
  type BoardClass,
  type BoardSample,
  MIN_NODES_FOR_FIGURES,
  type Standing,
  computeBoard,
  standingIn,
} from './performance.js';

export const ATTESTATION_TYP = 'homenode-attestation+jwt';
export const PROVIDER_ATTRIBUTES_TYP = 'homenode-provider-attributes+jwt';
/** The public answers are computed at most this often (the fleet walk reads every attested node). */
export const PUBLIC_CACHE_MS = 15_000;

export interface AttestationServiceDeps {
  fleet: AttestedFleet;
  auditor: Auditor;
  payouts: Pick<PayoutRepository, 'rateCards'>;
  now: () => number;
}

export interface ProviderAttributesAnswer {
  attributes: ProviderAttribute[];
  auditorId: string;
  jws: string;
  providerAddress: string | null;
  attestedNodes: number;
}

export interface PerformanceBoard {
  generatedAt: number;
  minNodesForFigures: number;
  rateCardVersion: number | null;
  classes: BoardClass[];
}

const seconds = (ms: number) => Math.floor(ms / 1000);

function sample(a: AttestedNode): BoardSample[] {
  return [...a.classes.entries()]
    .filter(([c]) => c !== 'cpu-only')
    .map(([gpuClass, gpus]) => ({ gpuClass, gpus, figures: a.figures }));
}

export function createAttestationService(deps: AttestationServiceDeps) {
  const { fleet, auditor, now } = deps;
  const sign = (typ: string, payload: object) =>
    new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: 'EdDSA', typ, kid: auditor.key.keyId })
      .sign(auditor.key.privateKey);

  let cached: { at: number; nodes: Promise<AttestedNode[]> } | undefined;
  /** Every attested node, computed at most once per `PUBLIC_CACHE_MS` for the public routes. */
  function attestedForPublic(): Promise<AttestedNode[]> {
    const at = now();
    if (!cached || at - cached.at >= PUBLIC_CACHE_MS || at < cached.at) {
      const nodes = fleet.all(at);
      cached = { at, nodes };
      nodes.catch(() => (cached = undefined));
    }
    return cached.nodes;
  }

  return {
    publicKey: auditor.key.publicJwk,
    auditorId: auditor.auditorId,

    /** The node's attestation as a compact JWS; NOT_ATTESTED while our auditor does not vouch for it. */
    async attestation(node: NodeRecord): Promise<string> {
      const a = await fleet.node(node, now());
      if (!a) {
        throw new NotAttestedError(
          `Machine ${node.id} has no current attestation: its last audit did not pass, it was never audited, or the pass is too old. It is attested again as soon as an audit passes.`,
        );
      }
      return sign(ATTESTATION_TYP, {
        iss: auditor.auditorId,
        sub: a.nodeId,
        attributes: a.attributes,
        auditId: a.auditId,
        iat: seconds(a.passedAt),
        exp: seconds(a.validUntil),
      });
    },

    /** What the managed provider may advertise: attributes of attested nodes only, signed. */
    async providerAttributes(): Promise<ProviderAttributesAnswer> {
      const nodes = await attestedForPublic();
      const byKey = new Map<string, ProviderAttribute>();
      for (const n of nodes) for (const a of n.attributes) byKey.set(a.key, a);
      const attributes = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const at = now();
      const exp = nodes.length > 0 ? Math.min(...nodes.map((n) => n.validUntil)) : at;
      const jws = await sign(PROVIDER_ATTRIBUTES_TYP, {
        iss: auditor.auditorId,
        sub: auditor.providerAddress ?? 'managed-provider',
        attributes,
        iat: seconds(at),
        exp: seconds(exp),
      });
      return {
        attributes,
        auditorId: auditor.auditorId,
        jws,
        providerAddress: auditor.providerAddress,
        attestedNodes: nodes.length,
      };
    },

    /** The on-chain publication of the provider's attributes, or why it cannot be made. */
    async publication(): Promise<ChainPublication> {
      if (!auditor.providerAddress || !auditor.auditorId.startsWith('akash1')) {
        throw new ValidationError(
          "Publishing on chain needs the auditor's and the provider's Akash accounts: set HOMENODE_AUDITOR_ADDRESS and HOMENODE_PROVIDER_ADDRESS (akash1…) and restart the server.",
        );
      }
      const { attributes } = await this.providerAttributes();
      return chainPublication(auditor.providerAddress, auditor.auditorId, attributes);
    },

    /** Each placement of the SDL: can our attested fleet serve it, on which nodes, and why not. */
    async match(text: string): Promise<PlacementMatch[]> {
      const parsed = parseSdl(text);
      if (!parsed.ok) throw new ValidationError(parsed.message, { details: parsed.problems });
      const at = now();
      const { attested, unattested } = await fleet.split(at, ['passing', 'failing', 'never']);
      const signed = (attrs: ProviderAttribute[], auditors: string[]) =>
        attrs.map((a) => ({ ...a, auditors }));
      const nodes: FleetNode[] = [
        ...attested.map((a) => ({
          id: a.nodeId,
          attributes: signed(a.attributes, [auditor.auditorId]),
          gpus: a.gpus,
        })),
        // Nodes without a current attestation take no part; they let the reasons say what would.
        ...unattested.map((n) => ({ id: n.id, attributes: signed(n.attributes, []), gpus: [] })),
      ];
      return matchPlacements(parsed.sdl, { nodes }, { auditorId: auditor.auditorId });
    },

    /** The public board: per GPU class, counts and quantiles (no ids). */
    async performance(): Promise<PerformanceBoard> {
      const nodes = await attestedForPublic();
      const card = cardInForce(await deps.payouts.rateCards(), now());
      return {
        generatedAt: now(),
        minNodesForFigures: MIN_NODES_FOR_FIGURES,
        rateCardVersion: card?.version ?? null,
        classes: computeBoard(nodes.flatMap(sample), card?.rates ?? {}),
      };
    },

    /** Where the node stands in its class, per figure; none while it is not attested. */
    async standing(node: NodeRecord): Promise<Standing[] | undefined> {
      const own = await fleet.node(node, now());
      if (!own) return undefined;
      const all = (await attestedForPublic()).filter((n) => n.nodeId !== own.nodeId).concat(own);
      const samples = all.flatMap(sample);
      return sample(own).map((s) => standingIn(samples, s));
    },
  };
}

export type AttestationService = ReturnType<typeof createAttestationService>;
