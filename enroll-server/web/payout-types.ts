/** The payout API's shapes as the dashboard reads them (see docs/dashboard.md for the contract). */
export type PeriodStatus = 'open' | 'computed' | 'locked';

export interface Period {
  id: string;
  start: string;
  end: string;
  status: PeriodStatus;
  rateCardVersion: number | null;
  hash: string | null;
  computedAt: string | null;
  lockedAt: string | null;
}

/** The statement JSON is defined once, by the server (type-only import: nothing of it is bundled). */
export type { LineJson as StatementLine, StatementJson as Statement } from '../payouts/statement-json.js';
import type { LineJson } from '../payouts/statement-json.js';

export interface EarningsPeriod {
  periodId: string;
  start: string;
  end: string;
  status: PeriodStatus;
  estimate: boolean;
  lines: LineJson[];
  totalUusd: string;
}

export interface Outage {
  id?: string;
  start: string;
  end: string;
  reason: string;
  createdAt?: string;
}
