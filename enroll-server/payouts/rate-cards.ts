/** Rate cards as stored → as the statement arithmetic reads them, and which card is in force. */
import type { RateCardRecord } from './payout-repository.js';
import type { RateCard } from './statement.js';

export function toRateCard(record: RateCardRecord): RateCard {
  return {
    version: record.version,
    effectiveFrom: record.effectiveFrom,
    rates: Object.fromEntries(
      Object.entries(record.rates).map(([cls, r]) => [
        cls,
        { availability: BigInt(r.availabilityUusdPerGpuHour), workload: BigInt(r.workloadUusdPerGpuHour) },
      ]),
    ),
  };
}

/** The card in force at `at`: the latest `effectiveFrom` at or before it (the newest version on a tie). */
export function cardInForce(cards: readonly RateCardRecord[], at: number): RateCardRecord | undefined {
  return [...cards]
    .filter((c) => c.effectiveFrom <= at)
    .sort((a, b) => b.effectiveFrom - a.effectiveFrom || b.version - a.version)[0];
}
