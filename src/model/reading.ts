import { CgmError } from './errors';
import { checkMgdl, DEXCOM_RANGE, instantProblem, type MeasuringRange } from './plausible';
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

/** The measured parts of a reading, as a vendor gives them. */
export interface ReadingParts {
  provider: ProviderId;
  subject: string;
  time: Date;
  /** mg/dL as the vendor wrote it (rounded here). */
  mgdl: number;
  trend: Trend;
  /** The vendor's own LOW/HIGH mark (Dexcom 39/401, Libre isLow/isHigh). */
  limit?: 'low' | 'high';
}

/** How `makeReading` judges the parts (see `plausible.ts`). */
export interface ReadingRules {
  /** The vendor's measuring range in mg/dL (default Dexcom's 39–401). */
  range?: MeasuringRange;
  /** The vendor's names of the fields, for the message (default `time` and `mgdl`). */
  fields?: { time?: string; mgdl?: string };
  /** The host clock in epoch ms (default `Date.now()`). */
  now?: number;
}

/**
 * Builds a reading from the measured parts, deriving mmol/L and the arrow. The one door every reading
 * comes through: an instant before 2000 or more than a day ahead of the host clock, or a value that
 * is not a finite mg/dL in the vendor's range, is refused with a `CgmError` PROTOCOL naming the field
 * (`detail.field`). The result always has an integer `mgdl` in 39–401 (`limit` set at the ends).
 */
export function makeReading(parts: ReadingParts, rules: ReadingRules = {}): GlucoseReading {
  const timeField = rules.fields?.time ?? 'time';
  const mgdlField = rules.fields?.mgdl ?? 'mgdl';
  const late = instantProblem(parts.time, rules.now);
  if (late) throw refusal(timeField, late);
  const value = checkMgdl(parts.mgdl, parts.limit, rules.range ?? DEXCOM_RANGE);
  if (!value.ok) throw refusal(mgdlField, value.problem);
  const reading: GlucoseReading = {
    provider: parts.provider,
    subject: parts.subject,
    time: parts.time,
    mgdl: value.mgdl,
    mmol: mgdlToMmol(value.mgdl),
    trend: parts.trend,
    arrow: trendArrow(parts.trend),
  };
  if (value.limit) reading.limit = value.limit;
  return reading;
}

function refusal(field: string, problem: string): CgmError {
  return new CgmError('PROTOCOL', `${field} ${problem}`, { detail: { field } });
}

/** Dexcom writes the sensor's LOW as 39 and HIGH as 401: placeholders, not measurements. */
export function dexcomLimit(mgdl: number): 'low' | 'high' | undefined {
  if (mgdl <= 39) return 'low';
  if (mgdl >= 401) return 'high';
  return undefined;
}
