/** The auditor's settings: key file, auditor and provider accounts, each checked by pattern. */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../enroll-server/core/config.js';

const ACCOUNT = 'akash1365yvmc4s7awdyj3n2sav7xfx76adc6dnmlx63';

describe('auditor configuration', () => {
  it('reads the key file and the Akash accounts', () => {
    const config = loadConfig({
      HOMENODE_DEV: '1',
      HOMENODE_AUDITOR_KEY_FILE: '/etc/homenode/auditor.json',
      HOMENODE_AUDITOR_ADDRESS: ACCOUNT,
      HOMENODE_PROVIDER_ADDRESS: ACCOUNT,
    });
    expect(config.auditor).toEqual({
      keyFile: '/etc/homenode/auditor.json',
      address: ACCOUNT,
      providerAddress: ACCOUNT,
    });
    expect(loadConfig({ HOMENODE_DEV: '1' }).auditor).toEqual({});
  });

  it('refuses an address that is not an Akash account, naming the variable', () => {
    expect(() => loadConfig({ HOMENODE_DEV: '1', HOMENODE_AUDITOR_ADDRESS: 'cosmos1abc' })).toThrow(
      'HOMENODE_AUDITOR_ADDRESS="cosmos1abc": must be an Akash account address',
    );
    // A space or a newline would split the publishing command line.
    expect(() => loadConfig({ HOMENODE_DEV: '1', HOMENODE_PROVIDER_ADDRESS: `${ACCOUNT} --from x` })).toThrow(
      'HOMENODE_PROVIDER_ADDRESS=',
    );
    // bech32 has no "b", "i", "o" or "1" after the separator.
    expect(() =>
      loadConfig({ HOMENODE_DEV: '1', HOMENODE_PROVIDER_ADDRESS: `akash1${'b'.repeat(38)}` }),
    ).toThrow('HOMENODE_PROVIDER_ADDRESS=');
  });
});
