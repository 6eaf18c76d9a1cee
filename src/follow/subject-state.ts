import type { Thresholds } from '../config';
import type { CgmError } from '../model/errors';
import type { GlucoseReading, GlucoseUnit, ProviderId } from '../model/reading';
import {
  DEFAULT_SENSOR_DAYS,
  sameSensor,
  sensorStatus,
  type SensorInfo,
  type SensorStatus,
} from '../model/sensor';
import { ReadingHistory } from '../stats/history';
import { classify, deltaIn, deltaPerFiveMinutes, type Classification } from './classify';
import { sameThresholds } from './thresholds';

/** Who a subject is, as the follower names it for every host. */
export interface SubjectIdentity {
  /** The provider's id of the person (LibreLinkUp patientId, the Dexcom account's subject, …). */
  id: string;
  /** What hosts show: the account's name when it follows one person, else the person's own name. */
  name: string;
  /** The stable, unique topic segment (`[a-z0-9_]`), kept across restarts once given. */
  slug: string;
  provider: ProviderId;
  /** A continuous sensor's data goes stale; a spot-check device's never does. */
  continuous: boolean;
}

/** A subject's state at one moment, as hosts render it. */
export interface SubjectSnapshot extends SubjectIdentity {
  last: GlucoseReading | undefined;
  previous: GlucoseReading | undefined;
  /** mg/dL per 5 minutes, unrounded; null when it cannot be known (see `deltaPerFiveMinutes`). */
  deltaMgdl: number | null;
  stale: boolean;
  /** Why this person's data does not come (the account's failure, or their own). */
  problem: CgmError | undefined;
  /** Their current sensor as the cloud last reported it (LibreLinkUp), at the time of the snapshot. */
  sensor?: SensorStatus | undefined;
  /** Their limits (mg/dL) when the follower decides them (configured, or from the cloud). */
  thresholds?: Thresholds | undefined;
}

/**
 * One person's state in one place (DESIGN "Following an account"): the last reading and the one before
 * it, the delta between them, whether the data is stale, and the current problem. Only newer readings
 * move it forward, so every host shows the same value whichever path a reading came by.
 */
export class SubjectState implements SubjectIdentity {
  readonly id: string;
  readonly provider: ProviderId;
  readonly continuous: boolean;
  name: string;
  slug: string;
  /** The last day of readings (as they came, backfills, the cloud's history): statistics and charts. */
  readonly recent = new ReadingHistory();
  private lastReading: GlucoseReading | undefined;
  private previousReading: GlucoseReading | undefined;
  private isStale = false;
  private currentProblem: CgmError | undefined;
  private sensorInfo: SensorInfo | undefined;
  private sensorDays = DEFAULT_SENSOR_DAYS;
  private limits: Thresholds | undefined;

  constructor(identity: SubjectIdentity) {
    this.id = identity.id;
    this.name = identity.name;
    this.slug = identity.slug;
    this.provider = identity.provider;
    this.continuous = identity.continuous;
  }

  get last(): GlucoseReading | undefined {
    return this.lastReading;
  }

  get previous(): GlucoseReading | undefined {
    return this.previousReading;
  }

  get stale(): boolean {
    return this.isStale;
  }

  get problem(): CgmError | undefined {
    return this.currentProblem;
  }

  /** The person's current sensor as their cloud last reported it; undefined when it reports none. */
  get sensor(): SensorInfo | undefined {
    return this.sensorInfo;
  }

  /** The sensor as hosts show it at `now`: serial, start, expected end, days left, warming up. */
  sensorStatus(now: number = Date.now()): SensorStatus | undefined {
    return this.sensorInfo ? sensorStatus(this.sensorInfo, this.sensorDays, now) : undefined;
  }

  /**
   * The person's limits in mg/dL, when the follower was given them: the configured ones, or with
   * `thresholds: "cloud"` the cloud's. Undefined: the host applies its own.
   */
  get thresholds(): Thresholds | undefined {
    return this.limits;
  }

  /** Returns true when the sensor (its serial, start or life) changed. */
  setSensor(info: SensorInfo | undefined, days: number = this.sensorDays): boolean {
    if (sameSensor(info, this.sensorInfo) && days === this.sensorDays) return false;
    this.sensorInfo = info;
    this.sensorDays = days;
    return true;
  }

  /** Returns true when the limits changed. */
  setThresholds(thresholds: Thresholds | undefined): boolean {
    if (sameThresholds(thresholds, this.limits) && (thresholds === undefined) === (this.limits === undefined))
      return false;
    this.limits = thresholds;
    return true;
  }

  get deltaMgdl(): number | null {
    return this.lastReading ? deltaPerFiveMinutes(this.lastReading, this.previousReading) : null;
  }

  /** The delta in a display unit (whole mg/dL or mmol/L to one decimal). */
  delta(unit: GlucoseUnit): number | null {
    return deltaIn(this.deltaMgdl, unit);
  }

  /** Urgent low / low / high of the last reading; undefined before the first one. */
  classify(thresholds: Thresholds): Classification | undefined {
    return this.lastReading ? classify(this.lastReading, thresholds) : undefined;
  }

  /** Takes a reading if it is newer than the last one; false (nothing changes) otherwise. */
  accept(reading: GlucoseReading): boolean {
    const last = this.lastReading;
    if (last && reading.time.getTime() <= last.time.getTime()) return false;
    this.previousReading = last;
    this.lastReading = reading;
    this.recent.add(reading);
    return true;
  }

  /**
   * Starts again from `reading` although it is older than the last one: the cloud's newest stayed behind
   * what was shown (a reading stamped ahead of time, a replaced sensor). No delta across the jump.
   */
  rebase(reading: GlucoseReading): void {
    this.previousReading = undefined;
    this.lastReading = reading;
    this.recent.add(reading);
  }

  /** Returns true when the flag changed. A spot-check device is never stale. */
  setStale(stale: boolean): boolean {
    const next = stale && this.continuous;
    if (next === this.isStale) return false;
    this.isStale = next;
    return true;
  }

  /** Returns true when the problem changed (by code and message). */
  setProblem(problem: CgmError | undefined): boolean {
    const before = this.currentProblem;
    if (before === problem) return false;
    this.currentProblem = problem;
    return before?.code !== problem?.code || before?.message !== problem?.message;
  }

  snapshot(): SubjectSnapshot {
    return {
      id: this.id,
      name: this.name,
      slug: this.slug,
      provider: this.provider,
      continuous: this.continuous,
      last: this.lastReading,
      previous: this.previousReading,
      deltaMgdl: this.deltaMgdl,
      stale: this.isStale,
      problem: this.currentProblem,
      sensor: this.sensorStatus(),
      thresholds: this.limits,
    };
  }
}
