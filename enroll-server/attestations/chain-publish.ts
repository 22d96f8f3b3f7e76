/**
 * How the auditor publishes the provider's attested attributes on chain (pure): the Cosmos message
 * `/akash.audit.v1.MsgSignProviderAttributes` ({ owner: provider, auditor, attributes }) and the
 * same as an Akash CLI command line, `provider-services tx audit attr create <provider> <key>
 * <value> … --from <auditor>`. Keys and values are checked by pattern before they reach the
 * command line, so nothing in them can be read by a shell as anything but one argument.
 */
import type { ProviderAttribute } from '../../protocol/attributes.js';

export const MSG_SIGN_PROVIDER_ATTRIBUTES = '/akash.audit.v1.MsgSignProviderAttributes';

/** What our derived attributes look like; anything else is left out of the command. */
const SAFE_TOKEN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$/;

export interface ChainPublication {
  message: {
    '@type': typeof MSG_SIGN_PROVIDER_ATTRIBUTES;
    owner: string;
    auditor: string;
    attributes: ProviderAttribute[];
  };
  /** The command as an argument array, and the same joined by spaces (every token is shell-safe). */
  argv: string[];
  command: string;
}

export function chainPublication(
  providerAddress: string,
  auditorAddress: string,
  attributes: readonly ProviderAttribute[],
): ChainPublication {
  const safe = attributes.filter((a) => SAFE_TOKEN.test(a.key) && SAFE_TOKEN.test(a.value));
  const argv = [
    'provider-services',
    'tx',
    'audit',
    'attr',
    'create',
    providerAddress,
    ...safe.flatMap((a) => [a.key, a.value]),
    '--from',
    auditorAddress,
  ];
  return {
    message: {
      '@type': MSG_SIGN_PROVIDER_ATTRIBUTES,
      owner: providerAddress,
      auditor: auditorAddress,
      attributes: safe.map(({ key, value }) => ({ key, value })),
    },
    argv,
    command: argv.join(' '),
  };
}
