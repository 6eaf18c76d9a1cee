import type { GlucoseReading } from '../model/reading';

/**
 * The international consensus CGM metrics (Battelino et al., Diabetes Care 2019, "Clinical Targets for
 * Continuous Glucose Monitoring Data Interpretation") over one window, in one shape for every host:
 * MQTT state JSON, Home Assistant sensors, the status page, Node-RED and the CLI.
 *
 * The cut-offs are the consensus ones (54, 70, 180, 250 mg/dL) whatever a person's own thresholds: the
 * names say so, and the numbers compare with what clinics and the vendors' reports show. Percentages are
 * 0–100 with one decimal; `percentBelow70` includes `percentBelow54` and `percentAbove180` includes
 * `percentAbove250`, so in range + below 70 + above 180 make 100. null when no reading is in the window.
 */
export interface GlucoseStatistics {
  /** 70–180 mg/dL inclusive (time in range, TIR). */
  percentInRange: number | null;
  /** Below 70 mg/dL (time below range, TBR, levels 1 and 2); a LOW placeholder counts. */
  percentBelow70: number | null;
  /** Below 54 mg/dL (TBR level 2); a LOW placeholder counts. */
  percentBelow54: number | null;
  /** Above 180 mg/dL (time above range, TAR, levels 1 and 2); a HIGH placeholder counts. */
  percentAbove180: number | null;
  /** Above 250 mg/dL (TAR level 2); a HIGH placeholder counts. */
  percentAbove250: number | null;
  /** Mean of the numeric readings (LOW/HIGH placeholders left out), mg/dL, one decimal. */
  meanMgdl: number | null;
  /** Sample standard deviation (n − 1) of the same readings, mg/dL, one decimal; null below two readings. */
  sdMgdl: number | null;
  /** Coefficient of variation: sd / mean, in percent, one decimal. */
  cv: number | null;
  /** The share of expected readings present (0–1, three decimals): slots with a reading / slots in the window. */
  coverage: number;
  /** The window's start (excluded), ISO 8601 UTC. */
  from: string;
  /** The window's end (included: the time of computing), ISO 8601 UTC. */
  to: string;
}

/** The consensus cut-offs in mg/dL. */
export const CONSENSUS = { veryLow: 54, low: 70, high: 180, veryHigh: 250 } as const;

export const DAY_MS = 24 * 60 * 60_000;

export interface StatisticsOptions {
  /** The window's end (epoch ms); readings after it are left out. */
  now: number;
  /** How often the sensor stores a reading (ms): the size of one slot. Dexcom, Libre: 5 min. */
  intervalMs: number;
  /** The window's length (ms); default 24 h. */
  windowMs?: number;
}

/**
 * The statistics of `readings` over the window ending at `now` (`now - windowMs` excluded, `now`
 * included). The window is cut into slots of one reading interval counted back from `now` (288 of
 * 5 minutes in a day), and each slot counts once, with its newest reading:
 * so LibreLinkUp's minute-by-minute latest values, a reading seen twice, or the cloud's history
 * overlapping what the bridge saw never weigh more than the sensor's own cadence. Coverage is the
 * share of slots with a reading; a gap lowers it and nothing else.
 */
export function computeStatistics(
  readings: Iterable<Pick<GlucoseReading, 'time' | 'mgdl' | 'limit'>>,
  options: StatisticsOptions,
): GlucoseStatistics {
  const windowMs = options.windowMs ?? DAY_MS;
  const to = options.now;
  const from = to - windowMs;
  const intervalMs = Math.max(1, options.intervalMs);
  const slotCount = Math.max(1, Math.ceil(windowMs / intervalMs));
  const slots = new Map<number, Pick<GlucoseReading, 'time' | 'mgdl' | 'limit'>>();
  for (const reading of readings) {
    const time = reading.time.getTime();
    if (!(time > from && time <= to)) continue;
    // Counted back from the window's end, so a reading at `to` and one an interval earlier never share a slot.
    const slot = Math.min(slotCount - 1, Math.floor((to - time) / intervalMs));
    const held = slots.get(slot);
    if (!held || held.time.getTime() <= time) slots.set(slot, reading);
  }
  const chosen = [...slots.values()];
  const count = chosen.length;
  let below54 = 0;
  let below70 = 0;
  let above180 = 0;
  let above250 = 0;
  const numeric: number[] = [];
  for (const reading of chosen) {
    const low = reading.limit === 'low';
    const high = reading.limit === 'high';
    const mgdl = reading.mgdl;
    if (low || mgdl < CONSENSUS.veryLow) below54 += 1;
    if (low || mgdl < CONSENSUS.low) below70 += 1;
    if (high || mgdl > CONSENSUS.high) above180 += 1;
    if (high || mgdl > CONSENSUS.veryHigh) above250 += 1;
    if (!low && !high) numeric.push(mgdl);
  }
  const percent = (n: number): number | null => (count === 0 ? null : round((n / count) * 100, 1));
  const mean = numeric.length === 0 ? null : numeric.reduce((a, b) => a + b, 0) / numeric.length;
  const sd =
    mean === null || numeric.length < 2
      ? null
      : Math.sqrt(numeric.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (numeric.length - 1));
  return {
    percentInRange: percent(count - below70 - above180),
    percentBelow70: percent(below70),
    percentBelow54: percent(below54),
    percentAbove180: percent(above180),
    percentAbove250: percent(above250),
    meanMgdl: mean === null ? null : round(mean, 1),
    sdMgdl: sd === null ? null : round(sd, 1),
    cv: sd === null || mean === null || mean === 0 ? null : round((sd / mean) * 100, 1),
    coverage: round(count / slotCount, 3),
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
  };
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor + 0;
}

/** The field names of the shape, in order (for tables, sensors and tests). */
export const STATISTICS_FIELDS = [
  'percentInRange',
  'percentBelow70',
  'percentBelow54',
  'percentAbove180',
  'percentAbove250',
  'meanMgdl',
  'sdMgdl',
  'cv',
  'coverage',
  'from',
  'to',
] as const satisfies readonly (keyof GlucoseStatistics)[];
