/** The hardware policy (DESIGN.md "Hardware checks"): served at `/v1/policy`, applied on both sides. */
import { Type, type Static } from 'typebox';
import {
  AuditPolicyOverridesSchema,
  AuditPolicySchema,
  DEFAULT_AUDIT_POLICY,
  resolveAuditPolicy,
  type AuditPolicy,
} from './audit-policy.js';

export const CHECK_IDS = [
  'arch',
  'gpu',
  'memory',
  'disk',
  'cpu',
  'private-network',
  'server',
  'clock',
  'virtualization',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

export const SeveritySchema = Type.Union([Type.Literal('warn'), Type.Literal('fail')]);

export const PolicySchema = Type.Object(
  {
    requireGpu: Type.Boolean(),
    minMemoryBytes: Type.Integer({ minimum: 0 }),
    minDiskBytes: Type.Integer({ minimum: 0 }),
    minCores: Type.Integer({ minimum: 0 }),
    clusterCidrs: Type.Array(Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$' }), {
      maxItems: 64,
    }),
    maxClockSkewSeconds: Type.Number({ minimum: 0 }),
    /** Per check id: what a non-passing result becomes (`warn` softens a failure, `fail` hardens a warning). */
    severity: Type.Record(Type.String(), SeveritySchema),
    autoApprove: Type.Boolean(),
    /**
     * Continuous audits: schedule, thresholds and the suite's bounds (audit-policy.ts). Always in
     * what `resolvePolicy` makes; optional so that an agent still reads the policy of a server
     * from before audits (`auditPolicyOf` then gives the defaults).
     */
    audit: Type.Optional(AuditPolicySchema),
  },
  { additionalProperties: false },
);
export type Policy = Static<typeof PolicySchema>;
/** A policy as `resolvePolicy` makes it: every part present. */
export type ResolvedPolicy = Policy & { audit: AuditPolicy };

/** A policy file may set any subset (in `audit`, any subset of thresholds and limits too). */
export const PolicyOverridesSchema = Type.Partial(
  Type.Object({ ...PolicySchema.properties, audit: AuditPolicyOverridesSchema }),
  { additionalProperties: false },
);
export type PolicyOverrides = Static<typeof PolicyOverridesSchema>;

const GiB = 1024 ** 3;

export const DEFAULT_POLICY: Readonly<ResolvedPolicy> = Object.freeze<ResolvedPolicy>({
  requireGpu: true,
  minMemoryBytes: 8 * GiB,
  minDiskBytes: 100 * GiB,
  minCores: 4,
  clusterCidrs: ['10.42.0.0/16', '10.43.0.0/16', '100.64.0.0/10'],
  maxClockSkewSeconds: 60,
  severity: { virtualization: 'warn' },
  autoApprove: false,
  audit: DEFAULT_AUDIT_POLICY,
});

/** The audit part of a policy, or the defaults where the policy has none (an older server). */
export function auditPolicyOf(policy: Pick<Policy, 'audit'>): AuditPolicy {
  return policy.audit ?? resolveAuditPolicy();
}

/** Defaults overlaid with a (validated) policy file's values. */
export function resolvePolicy(overrides: PolicyOverrides = {}): ResolvedPolicy {
  return {
    ...DEFAULT_POLICY,
    ...overrides,
    clusterCidrs: [...(overrides.clusterCidrs ?? DEFAULT_POLICY.clusterCidrs)],
    severity: { ...DEFAULT_POLICY.severity, ...overrides.severity },
    audit: resolveAuditPolicy(overrides.audit),
  };
}
