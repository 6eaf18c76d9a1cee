// What a reading may claim before anyone sees it: an instant that can be real and a value a sensor can
// give. Every reading enters through these rules (vendor answers and readings given to upload alike).

/** No CGM cloud has data from before 2000-01-01 (UTC); an older instant is a broken record. */
export const EARLIEST_READING_MS = Date.UTC(2000, 0, 1);
/** A phone or server clock may be off, but not by more than a day: later instants are refused. */
export const MAX_AHEAD_MS = 24 * 60 * 60_000;

/** The lowest and highest mg/dL a reading carries: Dexcom's LOW (39) and HIGH (401) placeholders. */
export const LOWEST_MGDL = 39;
export const HIGHEST_MGDL = 401;
/** Beyond this no sensor, meter or vendor flag makes a value believable (1e308 is a broken record). */
export const ABSURD_MGDL = 1_000;

/** The mg/dL a vendor's devices can report; values inside it but beyond 39–401 become LOW/HIGH. */
export interface MeasuringRange {
  low: number;
  high: number;
}

/** Dexcom reports 40–400 and writes its LOW as 39 and HIGH as 401 (reference/dexcom-share.md §5). */
export const DEXCOM_RANGE: MeasuringRange = { low: LOWEST_MGDL, high: HIGHEST_MGDL };
/** FreeStyle Libre sensors read 40–500 mg/dL (Libre 2 in Europe up to 500); isLow/isHigh mark LO/HI. */
export const LIBRE_RANGE: MeasuringRange = { low: LOWEST_MGDL, high: 500 };
/** Blood glucose meters (VitaDock GlucoDock) read about 20–600 mg/dL. */
export const METER_RANGE: MeasuringRange = { low: 20, high: 600 };

/** Why a part of a reading is refused, in words for a log line; `undefined` when it is fine. */
export function instantProblem(time: Date, now: number = Date.now()): string | undefined {
  const ms = time instanceof Date ? time.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) return 'is not a valid instant';
  if (ms < EARLIEST_READING_MS) return `is before 2000 (${describeInstant(ms)})`;
  if (ms > now + MAX_AHEAD_MS) return `is more than a day ahead of this clock (${describeInstant(ms)})`;
  return undefined;
}

export type CheckedValue =
  { ok: true; mgdl: number; limit?: 'low' | 'high' } | { ok: false; problem: string };

/**
 * A vendor value as the integer mg/dL a reading carries. `flag` is the vendor's own LOW/HIGH mark
 * (Dexcom 39/401, Libre isLow/isHigh): the value is then clamped into 39–401. Without one, a value in
 * the vendor's measuring range but beyond 39–401 becomes 39/401 with a limit; anything else is refused.
 */
export function checkMgdl(
  value: number,
  flag: 'low' | 'high' | undefined,
  range: MeasuringRange = DEXCOM_RANGE,
): CheckedValue {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return { ok: false, problem: 'is not a finite number' };
  }
  const mgdl = Math.round(value);
  if (mgdl <= 0) return { ok: false, problem: `${shortNumber(value)} is not a glucose value` };
  if (mgdl > ABSURD_MGDL) return { ok: false, problem: `${shortNumber(value)} mg/dL is impossible` };
  if (flag === 'low') {
    if (mgdl > HIGHEST_MGDL) return { ok: false, problem: `${mgdl} mg/dL is marked LOW` };
    return { ok: true, mgdl: Math.max(mgdl, LOWEST_MGDL), limit: 'low' };
  }
  if (flag === 'high') {
    if (mgdl < LOWEST_MGDL) return { ok: false, problem: `${mgdl} mg/dL is marked HIGH` };
    return { ok: true, mgdl: Math.min(mgdl, HIGHEST_MGDL), limit: 'high' };
  }
  if (mgdl < range.low || mgdl > range.high) {
    return { ok: false, problem: `${mgdl} mg/dL is outside the sensor's range ${range.low}–${range.high}` };
  }
  if (mgdl < LOWEST_MGDL) return { ok: true, mgdl: LOWEST_MGDL, limit: 'low' };
  if (mgdl > HIGHEST_MGDL) return { ok: true, mgdl: HIGHEST_MGDL, limit: 'high' };
  return { ok: true, mgdl };
}

/** Dexcom's placeholders: exactly 39 is the sensor's LOW, exactly 401 its HIGH. */
export function dexcomPlaceholder(value: number): 'low' | 'high' | undefined {
  const mgdl = Math.round(value);
  if (mgdl === LOWEST_MGDL) return 'low';
  if (mgdl === HIGHEST_MGDL) return 'high';
  return undefined;
}

/** An instant for a message: the ISO form when it has one, else the raw milliseconds. */
function describeInstant(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? `${ms} ms` : date.toISOString();
}

function shortNumber(value: number): string {
  const text = String(value);
  return text.length > 24 ? value.toExponential(3) : text;
}
