import type { Thresholds } from '../../config';
import type { CgmErrorCode } from '../../model/errors';
import type { ProviderId } from '../../model/reading';
import type { Trend } from '../../model/trend';
import type { GlucoseStatistics } from '../../stats/statistics';

/** An account's or a person's problem as the page shows it: never a secret (see CgmError). */
export interface ProblemStatus {
  code: CgmErrorCode;
  message: string;
  hint: string | null;
  /** When the bridge saw it begin (ISO). */
  since: string;
  /** False once it is over (the last error, kept for the page). */
  current: boolean;
}

export interface AccountStatus {
  name: string;
  provider: ProviderId;
  problem: ProblemStatus | null;
  /** The current problem, else the last one this run (with `current: false`), else null. */
  lastError: ProblemStatus | null;
  /** The slugs of the people it follows. */
  people: string[];
}

export interface PersonStatus {
  slug: string;
  name: string;
  account: string;
  provider: ProviderId;
  /** The stand-in of an account nobody is known of yet (it carries the account's problem). */
  placeholder: boolean;
  continuous: boolean;
  unit: 'mg/dL' | 'mmol/L';
  /** mg/dL. */
  thresholds: Thresholds;
  last: {
    time: string;
    mgdl: number;
    mmol: number;
    /** In `unit`. */
    value: number;
    trend: Trend;
    arrow: string;
    limit: 'low' | 'high' | null;
  } | null;
  /** Per 5 minutes, in `unit`. */
  delta: number | null;
  urgentLow: boolean;
  low: boolean;
  high: boolean;
  stale: boolean;
  problem: ProblemStatus | null;
  statistics: GlucoseStatistics | null;
  /** The last 24 h, oldest first: [epoch seconds, mg/dL, limit (-1 LOW, 1 HIGH, 0 none)]. */
  history: [number, number, number][];
}

/** `GET /api/status` and each `status` event of `GET /events`. */
export interface StatusSnapshot {
  version: string;
  now: string;
  mqtt: { connected: boolean; broker: string; queue: number };
  accounts: AccountStatus[];
  people: PersonStatus[];
}
