/** On an empty database, the first admin token (from HOMENODE_BOOTSTRAP_TOKEN, or generated). */
import type { ActivityLog } from '../core/activity-log.js';
import type { ServerConfig } from '../core/config.js';
import { newApiToken, newId, sha256Hex } from '../core/ids.js';
import type { Transactional } from '../core/transactions.js';
import type { TokenRepository } from './token-repository.js';

export interface BootstrapResult {
  /** Set only when this start created the first admin token. */
  adminToken?: string;
  /** True when the token was generated here (and must be printed once), false when it came from config. */
  generated: boolean;
}

export async function ensureBootstrapToken(
  repos: Transactional<{ tokens: TokenRepository; activity: ActivityLog }>,
  config: Pick<ServerConfig, 'bootstrapToken'>,
  now: number,
): Promise<BootstrapResult> {
  const adminToken = config.bootstrapToken ?? newApiToken();
  const id = newId('tok');
  const created = await repos.transaction(async (tx) => {
    if ((await tx.tokens.count()) > 0) return false;
    await tx.tokens.create(
      { id, role: 'admin', ownerId: null, label: 'bootstrap admin', createdAt: now, createdBy: null },
      sha256Hex(adminToken),
    );
    await tx.activity.record(now, { type: 'system', id: null }, 'token.bootstrap', { type: 'token', id });
    return true;
  });
  if (!created) return { generated: false };
  return { adminToken, generated: config.bootstrapToken === undefined };
}
