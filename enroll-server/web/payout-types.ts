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

export interface StatementLine {
  nodeId: string;
  ownerId: string;
  gpuClass: string;
  periodMinutes: number;
  upMinutes: number;
  creditedMinutes: number;
  workloadGpuMinutes: number;
  uptimeTier: string;
  availabilityUusd: string;
  workloadUusd: string;
  adjustmentsUusd: string;
  totalUusd: string;
  warnings?: string[];
}

export interface Statement {
  periodId: string;
  start: string;
  end: string;
  status: PeriodStatus;
  rateCardVersion: number;
  hash?: string | null;
  lines: StatementLine[];
  totals: {
    nodes: number;
    availabilityUusd: string;
    workloadUusd: string;
    adjustmentsUusd: string;
    totalUusd: string;
  };
}

export interface EarningsPeriod {
  periodId: string;
  start: string;
  end: string;
  status: PeriodStatus;
  estimate: boolean;
  lines: StatementLine[];
  totalUusd: string;
}

export interface Outage {
  id?: string;
  start: string;
  end: string;
  reason: string;
  createdAt?: string;
}
