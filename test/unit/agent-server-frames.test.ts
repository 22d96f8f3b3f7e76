/**
 * An agent keeps working with a newer server: unknown properties in server messages, in the
 * policy and in its audit part are dropped; known fields are still checked exactly.
 */
import { describe, expect, it } from 'vitest';
import { readPolicy, readServerMessage } from '../../agent/control/server-frames.js';
import { parsePolicy } from '../../agent/probe/connectivity.js';
import { resolvePolicy } from '../../protocol/policy.js';

const policy = resolvePolicy();
const newer = {
  ...policy,
  rollouts: { healthSeconds: 600 },
  audit: {
    ...policy.audit,
    attestation: true,
    thresholds: { ...policy.audit.thresholds, gpuMinNvlinkLanes: 4 },
    limits: { ...policy.audit.limits, gpuBurnSeconds: 30 },
  },
};

describe('frames from a newer server', () => {
  it('accepts a welcome whose message and policy have fields this agent does not know, and drops them', () => {
    const message = readServerMessage({
      type: 'welcome',
      nodeId: 'node_a',
      status: 'active',
      policy: newer,
      serverTime: '2026-11-02T09:00:00.000Z',
      replica: 'eu-1',
    });
    expect(message).toEqual({
      type: 'welcome',
      nodeId: 'node_a',
      status: 'active',
      policy,
      serverTime: '2026-11-02T09:00:00.000Z',
    });
  });

  it('accepts an audit request with a field from the future; refuses known fields of the wrong shape', () => {
    expect(readServerMessage({ type: 'audit', auditId: 'aud_1', heavy: true, gpuBurn: true })).toEqual({
      type: 'audit',
      auditId: 'aud_1',
      heavy: true,
    });
    expect(readServerMessage({ type: 'audit', auditId: 'aud 1; rm -rf /' })).toBeUndefined();
    expect(
      readServerMessage({
        type: 'welcome',
        nodeId: 'node_a',
        status: 'active',
        policy: { ...newer, minCores: 'four' },
        serverTime: 'x',
      }),
    ).toBeUndefined();
    expect(readServerMessage({ type: 'teleport', to: 'mars' })).toBeUndefined();
  });

  it('reads the policy of GET /v1/policy the same way (preflight)', () => {
    expect(readPolicy(newer)).toEqual(policy);
    expect(parsePolicy(newer)).toEqual(policy);
    expect(parsePolicy({ ...newer, audit: { ...newer.audit, graceMinutes: -1 } })).toBeUndefined();
  });
});
