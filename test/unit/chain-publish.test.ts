/** The on-chain publication of the provider's attributes: Akash's message and CLI argv (pure). */
import { describe, expect, it } from 'vitest';
import { chainPublication } from '../../enroll-server/attestations/chain-publish.js';

const PROVIDER = `akash1hnprv${'p'.repeat(33)}`;
const AUDITOR = `akash1hnaud${'q'.repeat(33)}`;

describe('chainPublication', () => {
  it("gives MsgSignProviderAttributes and the CLI's key value pairs after the provider", () => {
    const out = chainPublication(PROVIDER, AUDITOR, [
      { key: 'capabilities/gpu/vendor/nvidia/model/rtx4090', value: 'true' },
      { key: 'host', value: 'akash' },
    ]);
    expect(out.message).toEqual({
      '@type': '/akash.audit.v1.MsgSignProviderAttributes',
      owner: PROVIDER,
      auditor: AUDITOR,
      attributes: [
        { key: 'capabilities/gpu/vendor/nvidia/model/rtx4090', value: 'true' },
        { key: 'host', value: 'akash' },
      ],
    });
    expect(out.command).toBe(
      `provider-services tx audit attr create ${PROVIDER} capabilities/gpu/vendor/nvidia/model/rtx4090 true host akash --from ${AUDITOR}`,
    );
  });

  it('leaves out any attribute that a shell could read as more than one word', () => {
    const out = chainPublication(PROVIDER, AUDITOR, [
      { key: 'region', value: 'us-west; rm -rf /' },
      { key: 'tier\n--from', value: 'x' },
      { key: '-flag', value: 'true' },
      { key: 'location-type', value: 'home' },
    ]);
    expect(out.argv.slice(6)).toEqual(['location-type', 'home', '--from', AUDITOR]);
    expect(out.message.attributes).toEqual([{ key: 'location-type', value: 'home' }]);
  });
});
