import { trendArrow, type Trend } from './trend';

/** The providers GlucoBridge reads from. */
export const PROVIDER_IDS = ['dexcom', 'librelinkup', 'nightscout', 'vitadock'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** The display unit a user chooses; every computation stays in mg/dL. */
export type GlucoseUnit = 'mgdl' | 'mmol';

/** One glucose measurement, the same shape whichever cloud it came from. */
export interface GlucoseReading {
  provider: ProviderId;
  /** Whose glucose: the Dexcom account, the LibreLinkUp patientId, the Nightscout site, the VitaDock user. */
  subject: string;
  /** The UTC instant of the measurement. */
  time: Date;
  /** Integer mg/dL. */
  mgdl: number;
  /** mg/dL / 18.0156, one decimal. */
  mmol: number;
  trend: Trend;
  arrow: string;
  /** The sensor's own "LOW"/"HIGH" placeholder, when the value is beyond what it measures. */
  limit?: 'low' | 'high';
}

/** The divisor of the single mg/dL → mmol/L conversion used everywhere. */
export const MGDL_PER_MMOL = 18.0156;

/** mg/dL → mmol/L rounded to one decimal (the only conversion in the code base). */
export function mgdlToMmol(mgdl: number): number {
  return Math.round((mgdl / MGDL_PER_MMOL) * 10) / 10;
}

/** mmol/L → integer mg/dL, for input typed by a user in mmol/L. */
export function mmolToMgdl(mmol: number): number {
  return Math.round(mmol * MGDL_PER_MMOL);
}

/** The value of a reading in the chosen unit. */
export function valueIn(reading: Pick<GlucoseReading, 'mgdl' | 'mmol'>, unit: GlucoseUnit): number {
  return unit === 'mmol' ? reading.mmol : reading.mgdl;
}

/** The label of a unit as people and Home Assistant write it. */
export function unitLabel(unit: GlucoseUnit): 'mg/dL' | 'mmol/L' {
  return unit === 'mmol' ? 'mmol/L' : 'mg/dL';
}

/** Sorts oldest first and keeps one reading per instant (the later one seen wins). */
export function sortAndDedupe(readings: Iterable<GlucoseReading>): GlucoseReading[] {
  const byTime = new Map<number, GlucoseReading>();
  for (const reading of readings) byTime.set(reading.time.getTime(), reading);
  return [...byTime.values()].sort((a, b) => a.time.getTime() - b.time.getTime());
}

/** The JSON form used by the CLI, Node-RED messages and `upload` input. */
export interface ReadingJson {
  provider: ProviderId;
  subject: string;
  time: string;
  mgdl: number;
  mmol: number;
  trend: Trend;
  arrow: string;
  limit?: 'low' | 'high';
}

export function readingToJson(reading: GlucoseReading): ReadingJson {
  const json: ReadingJson = {
    provider: reading.provider,
    subject: reading.subject,
    time: reading.time.toISOString(),
    mgdl: reading.mgdl,
    mmol: reading.mmol,
    trend: reading.trend,
    arrow: reading.arrow,
  };
  if (reading.limit) json.limit = reading.limit;
  return json;
}

/** Builds a reading from the measured parts, deriving mmol/L and the arrow. */
export function makeReading(parts: {
  provider: ProviderId;
  subject: string;
  time: Date;
  mgdl: number;
  trend: Trend;
  limit?: 'low' | 'high';
}): GlucoseReading {
  const mgdl = Math.round(parts.mgdl);
  const reading: GlucoseReading = {
    provider: parts.provider,
    subject: parts.subject,
    time: parts.time,
    mgdl,
    mmol: mgdlToMmol(mgdl),
    trend: parts.trend,
    arrow: trendArrow(parts.trend),
  };
  if (parts.limit) reading.limit = parts.limit;
  return reading;
}

/** Dexcom writes the sensor's LOW as 39 and HIGH as 401: placeholders, not measurements. */
export function dexcomLimit(mgdl: number): 'low' | 'high' | undefined {
  if (mgdl <= 39) return 'low';
  if (mgdl >= 401) return 'high';
  return undefined;
}
