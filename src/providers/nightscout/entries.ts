// Nightscout entries → readings: which entries are readings, how they are checked, and how copies of
// one measurement from several uploaders become one reading.
import { makeReading, type GlucoseReading } from '../../model/reading';
import type { Trend } from '../../model/trend';
import {
  DIRECTIONS,
  DUPLICATE_WINDOW_MS,
  HIGH_MGDL,
  LOW_MGDL,
  MAX_AHEAD_MS,
  MAX_OBSERVED_INTERVAL_MS,
  MAX_SGV,
  MIN_INSTANT_MS,
  MIN_OBSERVED_INTERVAL_MS,
  MIN_SGV,
  TREND_BY_CODE,
} from './constants';
import { entrySchema, type Entry } from './schemas';

/** An `sgv` entry accepted as a reading, with what is needed to choose among copies. */
export interface Candidate {
  reading: GlucoseReading;
  /** The uploading device (`xDrip-DexcomG6`, `loop://iPhone`, …); `''` when the entry has none. */
  device: string;
  /** When the site stored it (v3 `srvModified`/`srvCreated`, else the v1 ObjectId's seconds); -1 unknown. */
  uploadedAt: number;
}

export type Verdict =
  | { kind: 'reading'; candidate: Candidate }
  /** Not a sensor reading (`mbg`, `cal`, other types): ignored without a word. */
  | { kind: 'other' }
  /** A sensor entry that cannot be a reading: dropped with one PROTOCOL log line. */
  | { kind: 'refused'; reason: string; key: string };

/**
 * Judges one entry. Only `type: "sgv"` (or an untyped entry carrying `sgv`) is a reading. The instant
 * is `date` (epoch ms), never `dateString`; it must lie between 2000-01-01 and the host clock + 1 day.
 * `sgv` is mg/dL: below 13 it is an uploader's error code (refused); 13–39 is the sensor's LOW
 * (`limit: 'low'`, 39); 401–1000 its HIGH (`limit: 'high'`, 401); anything else is refused.
 */
export function judgeEntry(raw: unknown, subject: string, now: number): Verdict {
  const parsed = entrySchema.safeParse(raw);
  if (!parsed.success) {
    if (!isSensorEntry(raw)) return { kind: 'other' };
    const issue = parsed.error.issues[0];
    const field = issue?.path.join('.') || 'entry';
    return { kind: 'refused', reason: `${field}: ${issue?.message ?? 'invalid'}`, key: describeRaw(raw) };
  }
  const entry = parsed.data;
  if (!isSensorEntry(entry)) return { kind: 'other' };
  const key = `${entry.device ?? ''}@${entry.date}`;
  const date = entry.date;
  if (!Number.isFinite(date) || date < MIN_INSTANT_MS) {
    return { kind: 'refused', reason: `date ${date} is before 2000`, key };
  }
  if (date > now + MAX_AHEAD_MS) {
    return { kind: 'refused', reason: `date ${new Date(date).toISOString()} is more than a day ahead`, key };
  }
  const sgv = entry.sgv;
  if (sgv === null || sgv === undefined || !Number.isFinite(sgv)) {
    return { kind: 'refused', reason: 'sgv is missing', key };
  }
  if (sgv < MIN_SGV || sgv > MAX_SGV) {
    return { kind: 'refused', reason: `sgv ${sgv} is not a glucose value`, key };
  }
  const limit = sgv <= LOW_MGDL ? 'low' : sgv >= HIGH_MGDL ? 'high' : undefined;
  const mgdl = limit === 'low' ? LOW_MGDL : limit === 'high' ? HIGH_MGDL : sgv;
  const reading = makeReading({
    provider: 'nightscout',
    subject,
    time: new Date(date),
    mgdl,
    trend: entryTrend(entry.direction, entry.trend),
    ...(limit ? { limit } : {}),
  });
  return {
    kind: 'reading',
    candidate: { reading, device: entry.device ?? '', uploadedAt: uploadedAt(entry) },
  };
}

/**
 * The trend: `direction` when it is a known name (`DoubleUp` … `DoubleDown`, `NOT COMPUTABLE`,
 * `RATE OUT OF RANGE`, `NONE`, any case), else the numeric `trend` 0–9, else `none` when the
 * uploader sent neither; an unknown value is `notComputable`.
 */
export function entryTrend(direction: string | null | undefined, trend: number | null | undefined): Trend {
  const named = direction ? directionTrend(direction) : undefined;
  if (named) return named;
  if (typeof trend === 'number' && Number.isInteger(trend)) {
    const coded = TREND_BY_CODE[trend];
    if (coded) return coded;
  }
  const sentNothing =
    (direction === null || direction === undefined || direction === '') &&
    (trend === null || trend === undefined);
  return sentNothing ? 'none' : 'notComputable';
}

const FOLDED = new Map(Object.entries(DIRECTIONS).map(([name, trend]) => [fold(name), trend]));

function directionTrend(direction: string): Trend | undefined {
  return DIRECTIONS[direction] ?? FOLDED.get(fold(direction));
}

function fold(text: string): string {
  return text.replace(/[\s_-]/g, '').toLowerCase();
}

/**
 * One reading per measurement. Entries at the same `date`, and entries of different devices within
 * `DUPLICATE_WINDOW_MS` of each other, are copies of one measurement (a phone and a watch uploading
 * one sensor): the copy the site stored last wins (the newest upload; on a tie the later stamp, then
 * the device name, so the choice never flickers). An instant handed out before (`known`) is kept, so a
 * later copy a few seconds off never looks like a new reading. Oldest first.
 */
export function onePerMeasurement(
  candidates: readonly Candidate[],
  known?: ReadonlySet<number>,
): GlucoseReading[] {
  const sorted = [...candidates].sort((a, b) => time(a) - time(b));
  const clusters: Candidate[][] = [];
  for (const candidate of sorted) {
    const cluster = clusters[clusters.length - 1];
    const first = cluster?.[0];
    const joins =
      cluster !== undefined &&
      first !== undefined &&
      (time(candidate) === time(first) ||
        (time(candidate) - time(first) <= DUPLICATE_WINDOW_MS &&
          !cluster.some((c) => c.device === candidate.device)));
    if (joins) cluster.push(candidate);
    else clusters.push([candidate]);
  }
  return clusters.map((cluster) => {
    const winner = cluster.reduce((best, c) => (newer(c, best) ? c : best));
    const kept = known ? cluster.map(time).find((t) => known.has(t)) : undefined;
    if (kept === undefined || kept === time(winner)) return winner.reading;
    return { ...winner.reading, time: new Date(kept) };
  });
}

function newer(a: Candidate, b: Candidate): boolean {
  if (a.uploadedAt !== b.uploadedAt) return a.uploadedAt > b.uploadedAt;
  if (time(a) !== time(b)) return time(a) > time(b);
  return a.device > b.device;
}

function time(candidate: Candidate): number {
  return candidate.reading.time.getTime();
}

/**
 * The typical spacing of a series (the median of the steps between consecutive readings, gaps over
 * 15 minutes left out), or `undefined` with fewer than three steps to judge by.
 */
export function medianSpacing(readings: readonly GlucoseReading[]): number | undefined {
  const steps: number[] = [];
  for (let i = 1; i < readings.length; i += 1) {
    const step = readings[i]!.time.getTime() - readings[i - 1]!.time.getTime();
    if (step > 0 && step <= MAX_OBSERVED_INTERVAL_MS) steps.push(step);
  }
  if (steps.length < 3) return undefined;
  steps.sort((a, b) => a - b);
  const middle = Math.floor(steps.length / 2);
  const median = steps.length % 2 === 1 ? steps[middle]! : (steps[middle - 1]! + steps[middle]!) / 2;
  return Math.min(MAX_OBSERVED_INTERVAL_MS, Math.max(MIN_OBSERVED_INTERVAL_MS, Math.round(median)));
}

function isSensorEntry(value: unknown): boolean {
  if (!value || typeof value !== 'object') return false;
  const { type, sgv } = value as { type?: unknown; sgv?: unknown };
  if (type === 'sgv') return true;
  return (type === undefined || type === null) && sgv !== undefined && sgv !== null;
}

function uploadedAt(entry: Entry): number {
  if (typeof entry.srvModified === 'number') return entry.srvModified;
  if (typeof entry.srvCreated === 'number') return entry.srvCreated;
  // A MongoDB ObjectId starts with its creation time in seconds (8 hex digits).
  if (entry._id && /^[0-9a-f]{24}$/i.test(entry._id)) return parseInt(entry._id.slice(0, 8), 16) * 1000;
  return -1;
}

function describeRaw(raw: unknown): string {
  if (!raw || typeof raw !== 'object') return String(raw).slice(0, 40);
  const { device, date, sgv } = raw as { device?: unknown; date?: unknown; sgv?: unknown };
  const text = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : '';
  return `${text(device)}@${text(date).slice(0, 30)}:${text(sgv).slice(0, 10)}`;
}
