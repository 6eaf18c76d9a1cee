import type { GlucoseReading } from '../model/reading';
import { DAY_MS } from './statistics';

/** Readings kept beyond the newest one: a day for the statistics and the chart, and an hour to spare. */
export const HISTORY_SPAN_MS = DAY_MS + 60 * 60_000;
/** A day of minute-by-minute values (LibreLinkUp's latest, Nightscout uploaders) with room to spare. */
export const HISTORY_MAX_READINGS = 3_000;

/**
 * One person's recent readings, oldest first, one per instant (a later copy replaces an earlier one),
 * bounded by time (`spanMs` before the newest) and by count: what the statistics and the status page's
 * chart are drawn from. It only holds what it was given (readings as they came, backfills, the cloud's
 * history); it asks nobody.
 */
export class ReadingHistory {
  private items: GlucoseReading[] = [];

  constructor(
    private readonly spanMs = HISTORY_SPAN_MS,
    private readonly maxReadings = HISTORY_MAX_READINGS,
  ) {}

  /** Oldest first. */
  get readings(): readonly GlucoseReading[] {
    return this.items;
  }

  get size(): number {
    return this.items.length;
  }

  get newest(): GlucoseReading | undefined {
    return this.items[this.items.length - 1];
  }

  add(reading: GlucoseReading): void {
    const time = reading.time.getTime();
    if (!Number.isFinite(time)) return;
    const items = this.items;
    const last = items[items.length - 1];
    if (!last || last.time.getTime() < time) items.push(reading);
    else {
      // Rare: an older reading (a backfill); binary search for its place.
      let lo = 0;
      let hi = items.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (items[mid]!.time.getTime() < time) lo = mid + 1;
        else hi = mid;
      }
      if (items[lo]?.time.getTime() === time) items[lo] = reading;
      else items.splice(lo, 0, reading);
    }
    this.prune();
  }

  addAll(readings: Iterable<GlucoseReading>): void {
    for (const reading of readings) this.add(reading);
  }

  /** Readings at or after `since` (epoch ms), oldest first. */
  since(since: number): GlucoseReading[] {
    return this.items.filter((r) => r.time.getTime() >= since);
  }

  private prune(): void {
    const newest = this.newest;
    if (!newest) return;
    const oldest = newest.time.getTime() - this.spanMs;
    let drop = 0;
    while (drop < this.items.length && this.items[drop]!.time.getTime() < oldest) drop += 1;
    drop = Math.max(drop, this.items.length - this.maxReadings);
    if (drop > 0) this.items.splice(0, drop);
  }
}
