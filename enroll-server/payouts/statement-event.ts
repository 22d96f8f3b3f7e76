/** The `statement.locked` event of a locked statement: the period and each owner's part. Pure. */
import type { StatementLockedEvent } from '../core/domain-events.js';
import type { StatementJson } from './statement-json.js';

export function statementLockedEvent(
  statement: StatementJson & { hash: string },
  period: { start: number; end: number },
): StatementLockedEvent {
  const owners = new Map<string, { total: bigint; nodeIds: string[] }>();
  for (const line of statement.lines) {
    const share = owners.get(line.ownerId) ?? { total: 0n, nodeIds: [] };
    share.total += BigInt(line.totalUusd);
    share.nodeIds.push(line.nodeId);
    owners.set(line.ownerId, share);
  }
  return {
    type: 'statement.locked',
    periodId: statement.periodId,
    start: period.start,
    end: period.end,
    hash: statement.hash,
    totalUusd: statement.totals.totalUusd,
    owners: [...owners].map(([ownerId, s]) => ({
      ownerId,
      totalUusd: s.total.toString(),
      nodeIds: s.nodeIds,
    })),
  };
}
