/**
 * Server settings for a simulated fleet: every simulated node connects from this machine's one
 * address, where a real fleet comes from thousands. The per-address connection limits
 * (docs/control-channel.md "Limits") are lifted for it; every other limit stays as deployed.
 */
export const ONE_ADDRESS_FLEET_ENV: Readonly<Record<string, string>> = {
  HOMENODE_ENROLL_MAX_FAILURES_PER_ADDRESS: '1000000',
  // Its nodes enroll 16 at a time through one key (1,000 uses): each attempt is counted against the
  // key while it is checked (parallel guesses stay bounded), which would refuse more than 10.
  HOMENODE_ENROLL_MAX_FAILURES_PER_KEY: '1000000',
  HOMENODE_CONTROL_MAX_PER_ADDRESS: '1000000',
  HOMENODE_CONTROL_MAX_PENDING_PER_ADDRESS: '100000',
  HOMENODE_CONTROL_MAX_FAILURES_PER_ADDRESS: '1000000',
};
