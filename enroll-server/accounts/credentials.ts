/** The credentials core/auth.ts checks: API tokens by their hash, and dashboard session cookies. */
import type { Credentials } from '../core/auth.js';
import { sha256Hex } from '../core/ids.js';
import type { SessionService } from './session-service.js';
import type { TokenRepository } from './token-repository.js';

export function createCredentials(tokens: TokenRepository, sessions: SessionService): Credentials {
  return {
    async byToken(token) {
      const record = await tokens.findActiveByHash(sha256Hex(token));
      return record && { tokenId: record.id, role: record.role, ownerId: record.ownerId };
    },
    async bySession(secret) {
      const found = await sessions.authenticate(secret);
      if (!found) return undefined;
      const { token, session } = found;
      return { principal: { tokenId: token.id, role: token.role, ownerId: token.ownerId }, session };
    },
  };
}
