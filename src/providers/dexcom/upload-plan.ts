import { CgmError } from '../../model/errors';
import { checkMgdl, instantProblem, METER_RANGE } from '../../model/plausible';
import { dexcomTrendCode, type Trend } from '../../model/trend';

/**
 * The least time between two uploaded readings: 4 min 45 s, what Dexcom receivers keep and what the
 * xDrip-family uploaders space their uploads by (xdripswift: "spaced ≥ 4.75 min", reference
 * dexcom-share.md §3.3). Dexcom's follower read returns at most 288 records: at this spacing they
 * cover the whole day, at a Libre's one a minute only 4.8 hours.
 */
export const DEFAULT_UPLOAD_SPACING_MS = 285_000;

/** A reading to upload: the same fields `glucobridge read --json` prints. */
export interface UploadReading {
  /** The UTC instant of the measurement. */
  time: Date;
  /** mg/dL; 20–600 accepted, stored as Dexcom's 39 (LOW) … 401 (HIGH). */
  mgdl: number;
  trend?: Trend;
  /**
   * This machine's clock stamped the reading (a meter read now, not a reading relayed from a cloud):
   * it is then moved by the difference between Dexcom's clock and ours. Relayed readings keep their
   * own instant.
   */
  hostClock?: boolean;
}

/** A reading as Dexcom stores it. */
export interface Egv {
  /** The reading's instant floored to the second (epoch ms): what positions and spacing compare. */
  time: number;
  hostClock: boolean;
  /** Integer mg/dL, 39–401. */
  value: number;
  /** Dexcom's trend number, 0–9. */
  trend: number;
}

const SECOND = 1_000;

/**
 * A reading as Dexcom stores it, by the same rules as readings read from a cloud: an instant from
 * 2000 to a day ahead, and a value some glucose device can report (20–600 mg/dL, a meter's range),
 * stored as an integer in 39–401 (39 is LOW and 401 HIGH to every Dexcom app). Anything else is a
 * CONFIG error naming the reading and the field.
 */
export function toEgv(reading: UploadReading, index: number): Egv {
  const where = `readings[${index}]`;
  const hint = 'each reading needs a time since 2000, not in the future, and a value of 20–600 mg/dL';
  const time = reading.time instanceof Date ? reading.time : new Date(Number.NaN);
  const late = instantProblem(time);
  if (late) throw new CgmError('CONFIG', `${where}.time ${late}`, { hint });
  const value = checkMgdl(reading.mgdl, undefined, METER_RANGE);
  if (!value.ok) throw new CgmError('CONFIG', `${where}.mgdl ${value.problem}`, { hint });
  return {
    time: Math.floor(time.getTime() / SECOND) * SECOND,
    hostClock: reading.hostClock === true,
    value: value.mgdl,
    trend: Math.max(0, dexcomTrendCode(reading.trend ?? 'none')),
  };
}

export interface UploadPlan {
  /** What to post, oldest first: the readings still waiting from before, and the new ones kept. */
  queue: Egv[];
  /** Readings left out: at or before the position (uploaded before), or too close to a kept one. */
  skipped: number;
}

/**
 * Which of `incoming` go to Dexcom. Nothing at or before `position` (the last reading Dexcom
 * accepted) is sent again; readings already `queued` (a batch that failed) stay and keep their
 * place; of the rest, oldest first, a reading is kept only when it is at least `spacingMs` after the
 * one before it (the position or a kept reading) and before the next queued one. A 1-minute source
 * thus becomes one reading every 5 minutes, and the same input given twice adds nothing.
 */
export function planUpload(
  incoming: readonly Egv[],
  queued: readonly Egv[],
  position: number | undefined,
  spacingMs: number,
): UploadPlan {
  const floor = position ?? Number.NEGATIVE_INFINITY;
  const waiting = [...queued].sort((a, b) => a.time - b.time);
  const waitingTimes = new Set(waiting.map((egv) => egv.time));
  const fresh = new Map<number, Egv>();
  let skipped = 0;
  for (const egv of incoming) {
    if (egv.time <= floor || fresh.has(egv.time)) skipped += 1;
    else if (!waitingTimes.has(egv.time)) fresh.set(egv.time, egv);
  }
  const queue: Egv[] = [];
  let last = floor;
  let next = 0;
  for (const egv of [...fresh.values()].sort((a, b) => a.time - b.time)) {
    while (next < waiting.length && waiting[next]!.time < egv.time) {
      last = waiting[next]!.time;
      queue.push(waiting[next]!);
      next += 1;
    }
    const following = waiting[next]?.time ?? Number.POSITIVE_INFINITY;
    if (egv.time - last >= spacingMs && following - egv.time >= spacingMs) {
      queue.push(egv);
      last = egv.time;
    } else {
      skipped += 1;
    }
  }
  queue.push(...waiting.slice(next));
  return { queue, skipped };
}
