/**
 * The auditor (DESIGN.md "Audited attributes"): the Ed25519 key that signs attestations and the
 * provider's attributes, and the id it signs as. The id is the auditor's Akash account when the
 * operator gives it (`HOMENODE_AUDITOR_ADDRESS`), because SDLs name auditors by account in
 * `signedBy`; otherwise the key's RFC 7638 thumbprint, prefixed so it cannot pass for an account.
 */
import { join } from 'node:path';
import type { AuditorConfig } from '../core/config.js';
import { type SigningKey, loadSigningKey } from '../core/signing-key.js';

export interface Auditor {
  key: SigningKey;
  /** What `iss` and `signedBy` carry: `akash1…`, or `homenode-auditor:<thumbprint>`. */
  auditorId: string;
  /** The account whose attributes the auditor signs on chain, when configured. */
  providerAddress: string | null;
}

export const THUMBPRINT_AUDITOR_PREFIX = 'homenode-auditor:';

export async function loadAuditor(config: AuditorConfig, dataDir: string): Promise<Auditor> {
  const key = await loadSigningKey(config.keyFile ?? join(dataDir, 'auditor-key.json'), {
    create: config.keyFile === undefined,
    what: config.keyFile ? 'HOMENODE_AUDITOR_KEY_FILE' : 'The auditor key',
  });
  return {
    key,
    auditorId: config.address ?? `${THUMBPRINT_AUDITOR_PREFIX}${key.keyId}`,
    providerAddress: config.providerAddress ?? null,
  };
}
