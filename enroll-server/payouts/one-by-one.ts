/**
 * The many-node statement reads of `PayoutRepository` answered one node at a time, for an engine
 * where a read is a function call rather than a round trip (SQLite): the same answers as the
 * set-based reads of PostgreSQL (`postgres/statement-reads.ts`), which the conformance suite checks.
 */
import type { PayoutRepository } from './payout-repository.js';

type OneNodeReads = Pick<PayoutRepository, 'presence' | 'hardwareHistory' | 'auditHistory' | 'usage'>;
type ManyNodeReads = Pick<
  PayoutRepository,
  'presenceOf' | 'hardwareHistoryOf' | 'auditHistoryOf' | 'usageOf'
>;

async function each<T>(ids: readonly string[], read: (id: string) => Promise<T>): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (const id of ids) out.set(id, await read(id));
  return out;
}

export function oneByOne(repo: OneNodeReads): ManyNodeReads {
  return {
    presenceOf: (ids, from) => each(ids, (id) => repo.presence(id, from)),
    hardwareHistoryOf: (ids) => each(ids, (id) => repo.hardwareHistory(id)),
    auditHistoryOf: (ids, from, asOf) => each(ids, (id) => repo.auditHistory(id, from, asOf)),
    usageOf: async (asks, asOf) => {
      const out = [];
      for (const a of asks) out.push(await repo.usage(a.nodeId, asOf, a.queries));
      return out;
    },
  };
}
