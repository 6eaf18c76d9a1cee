import { dexcomLimit } from '../model/reading';
import type { Trend } from '../model/trend';

/** One point of a simulated glucose trace. */
export interface TracePoint {
  time: number;
  /** mg/dL as the sensor reports it: 39 = LOW and 401 = HIGH beyond its range. */
  mgdl: number;
  trend: Trend;
  limit?: 'low' | 'high';
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function hash(seed: string): number {
  let h = 2166136261;
  for (const ch of seed) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return (h >>> 0) / 2 ** 32;
}

/**
 * A deterministic, realistic-looking day for one person: a slow daily wave, meal rises, a night-time
 * low and, for the "brittle" profile, excursions past the sensor's LOW and HIGH. The same seed and
 * instant always give the same value, so every endpoint and every test agrees on it.
 */
export function rawGlucose(seed: string, time: number, profile: 'steady' | 'brittle' = 'steady'): number {
  const phase = hash(seed) * 24 * HOUR;
  const t = time + phase;
  const day = ((t % (24 * HOUR)) + 24 * HOUR) % (24 * HOUR);
  const swing = profile === 'brittle' ? 2.2 : 1;
  let value =
    130 + 25 * Math.sin((2 * Math.PI * t) / (24 * HOUR)) + 12 * Math.sin((2 * Math.PI * t) / (3.7 * HOUR));
  for (const meal of [7.5, 12.5, 19]) {
    const since = (day - meal * HOUR) / HOUR;
    if (since > 0 && since < 4) value += swing * 70 * since * Math.exp(-1.4 * since);
  }
  const night = (day - 3 * HOUR) / HOUR;
  if (night > -1.5 && night < 1.5) value -= swing * 55 * Math.cos((night / 1.5) * (Math.PI / 2));
  return value;
}

function trendFromSlope(perMinute: number): Trend {
  if (perMinute <= -3) return 'doubleDown';
  if (perMinute <= -2) return 'singleDown';
  if (perMinute <= -1) return 'fortyFiveDown';
  if (perMinute < 1) return 'flat';
  if (perMinute < 2) return 'fortyFiveUp';
  if (perMinute < 3) return 'singleUp';
  return 'doubleUp';
}

export function tracePoint(seed: string, time: number, profile: 'steady' | 'brittle' = 'steady'): TracePoint {
  const raw = rawGlucose(seed, time, profile);
  const slope = (raw - rawGlucose(seed, time - 15 * MINUTE, profile)) / 15;
  const mgdl = Math.min(401, Math.max(39, Math.round(raw)));
  const limit = dexcomLimit(mgdl);
  const point: TracePoint = { time, mgdl, trend: limit ? 'notComputable' : trendFromSlope(slope) };
  if (limit) point.limit = limit;
  return point;
}

/** The grid instants of a sensor that reads every `stepMs`, newest first, within (from, to]. */
export function gridTimes(from: number, to: number, stepMs: number): number[] {
  const times: number[] = [];
  for (let t = Math.floor(to / stepMs) * stepMs; t > from; t -= stepMs) times.push(t);
  return times;
}
