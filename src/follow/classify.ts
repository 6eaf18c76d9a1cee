import type { Thresholds } from '../config';
import { mgdlToMmol, type GlucoseReading, type GlucoseUnit } from '../model/reading';

/** Where a reading stands against a person's limits. */
export interface Classification {
  urgentLow: boolean;
  low: boolean;
  high: boolean;
}

/**
 * The one meaning of urgent low / low / high, for every host: at or beyond the limit (mg/dL), and a
 * sensor's own LOW placeholder counts as urgent low and low, its HIGH as high, whatever the number.
 */
export function classify(
  reading: Pick<GlucoseReading, 'mgdl' | 'limit'>,
  thresholds: Thresholds,
): Classification {
  if (reading.limit === 'low') return { urgentLow: true, low: true, high: false };
  if (reading.limit === 'high') return { urgentLow: false, low: false, high: true };
  return {
    urgentLow: reading.mgdl <= thresholds.urgentLow,
    low: reading.mgdl <= thresholds.low,
    high: reading.mgdl >= thresholds.high,
  };
}

/** Beyond this gap two readings say little about the rate of change, so the delta is unknown. */
export const MAX_DELTA_GAP_MINUTES = 15;

/**
 * The change per 5 minutes in mg/dL (unrounded), or null when it cannot be known: no previous reading,
 * not strictly older, more than `MAX_DELTA_GAP_MINUTES` apart, or either one a LOW/HIGH placeholder.
 */
export function deltaPerFiveMinutes(
  reading: GlucoseReading,
  previous: GlucoseReading | undefined,
): number | null {
  if (!previous || reading.limit || previous.limit) return null;
  const minutes = (reading.time.getTime() - previous.time.getTime()) / 60_000;
  if (minutes <= 0 || minutes > MAX_DELTA_GAP_MINUTES) return null;
  return ((reading.mgdl - previous.mgdl) / minutes) * 5;
}

/** The delta in a display unit: whole mg/dL, or mmol/L to one decimal; never "-0". */
export function deltaIn(perFive: number | null, unit: GlucoseUnit): number | null {
  if (perFive === null) return null;
  return (unit === 'mmol' ? mgdlToMmol(perFive) : Math.round(perFive)) + 0;
}
