import type { GlucoseReading } from '../model/reading';
import { DAY_MS } from './statistics';

/** Readings kept beyond the newest one: a day for the statistics and the chart, and an hour to spare. */
export const HISTORY_SPAN_MS = DAY_MS + 60 * 60_000;
/** A day of minute-by-minute values (LibreLinkUp's latest, Nightscout uploaders) with room to spare. */
export const HISTORY_MAX_READINGS = 3_000;

/** What the statistics and the chart need of a reading: its UTC instant, mg/dL, and a LOW/HIGH placeholder. */
export type HistoryPoint = Pick<GlucoseReading, 'time' | 'mgdl' | 'limit'>;

// A point is kept as two numbers, not as the reading object (about 240 bytes each): a bridge following a
// thousand people holds 288,000 of them.
const LIMIT_CODES = { none: 0, low: 1, high: 2 } as const;

function encode(point: HistoryPoint): number {
  return point.mgdl * 4 + LIMIT_CODES[point.limit ?? 'none'];
}

function decode(time: number, code: number): HistoryPoint {
  const limit = code % 4;
  const point: HistoryPoint = { time: new Date(time), mgdl: (code - limit) / 4 };
  if (limit === LIMIT_CODES.low) point.limit = 'low';
  else if (limit === LIMIT_CODES.high) point.limit = 'high';
  return point;
}

/**
 * One person's recent readings, oldest first, one per instant (a later copy replaces an earlier one),
 * bounded by time (`spanMs` before the newest) and by count: what the statistics and the status page's
 * chart are drawn from. It only holds what it was given (readings as they came, backfills, the cloud's
 * history); it asks nobody. Points come back as new `HistoryPoint` objects (instant, mg/dL, limit).
 */
export class ReadingHistory {
  /** Epoch ms, ascending. */
  private times: number[] = [];
  /** mg/dL × 4 + the limit's code, at the same index. */
  private codes: number[] = [];

  constructor(
    private readonly spanMs = HISTORY_SPAN_MS,
    private readonly maxReadings = HISTORY_MAX_READINGS,
  ) {}

  /** Oldest first. */
  get readings(): HistoryPoint[] {
    return this.times.map((time, i) => decode(time, this.codes[i]!));
  }

  get size(): number {
    return this.times.length;
  }

  get newest(): HistoryPoint | undefined {
    const last = this.times.length - 1;
    return last < 0 ? undefined : decode(this.times[last]!, this.codes[last]!);
  }

  /** The newest instant held (epoch ms). */
  get newestTime(): number | undefined {
    return this.times[this.times.length - 1];
  }

  add(reading: HistoryPoint): void {
    const time = reading.time.getTime();
    if (!Number.isFinite(time) || !Number.isFinite(reading.mgdl)) return;
    const code = encode(reading);
    const times = this.times;
    const last = times[times.length - 1];
    if (last === undefined || last < time) {
      times.push(time);
      this.codes.push(code);
    } else {
      // Rare: an older reading (a backfill); binary search for its place.
      const at = this.indexOf(time);
      if (times[at] === time) this.codes[at] = code;
      else {
        times.splice(at, 0, time);
        this.codes.splice(at, 0, code);
      }
    }
    this.prune();
  }

  addAll(readings: Iterable<HistoryPoint>): void {
    for (const reading of readings) this.add(reading);
  }

  /** Readings at or after `since` (epoch ms), oldest first. */
  since(since: number): HistoryPoint[] {
    const from = this.indexOf(since);
    const points: HistoryPoint[] = [];
    for (let i = from; i < this.times.length; i += 1) points.push(decode(this.times[i]!, this.codes[i]!));
    return points;
  }

  /** The first index whose instant is at or after `time`. */
  private indexOf(time: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.times[mid]! < time) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private prune(): void {
    const newest = this.newestTime;
    if (newest === undefined) return;
    const drop = Math.max(this.indexOf(newest - this.spanMs), this.times.length - this.maxReadings);
    if (drop > 0) {
      this.times.splice(0, drop);
      this.codes.splice(0, drop);
    }
  }
}
