import { EventEmitter } from 'node:events';
import { SubjectState } from './follow/subject-state';
import { type CgmError, stopsPolling, toCgmError } from './model/errors';
import type { Logger } from './model/logger';
import { silentLogger } from './model/logger';
import type { GlucoseReading } from './model/reading';
import type { CgmSource } from './providers/provider';
import { LagModel } from './lag-model';
import { failureDelay, nextPollDelay, READING_BUDGET, RETRY_STEP_MS } from './schedule';

export { MAX_BACKOFF_MS, MIN_POLL_INTERVAL_MS } from './schedule';

export interface PollerOptions {
  /** The subject to follow (a provider id, e.g. a LibreLinkUp patientId); default the source's own choice. */
  subject?: string;
  /** The person's state, shared with the follower and hosts; by default the poller keeps its own. */
  state?: SubjectState;
  /** No new reading for this long means stale (continuous sensors only). */
  staleMinutes?: number;
  /** History emitted at the first start, before following (0: only the latest reading). */
  initialHistoryMinutes?: number;
  logger?: Logger;
  /** Random part (0…jitterMs) added to each scheduled poll, so many accounts do not poll in lock-step; default 4 s. */
  jitterMs?: number;
}

export interface StaleInfo {
  subject: string | undefined;
  last: GlucoseReading | undefined;
  ageMs: number | undefined;
}

/** A reading stamped further ahead of this host's clock than this is not shown (yet). */
export const MAX_AHEAD_MS = 5 * 60_000;
/** Polls in a row whose newest reading stays behind the last one shown before the poller follows the cloud again. */
export const REBASE_AFTER_POLLS = 3;
const MINUTE = 60_000;

export interface PollerEvents {
  /** A reading newer than any before, once, in order. */
  reading: [GlucoseReading];
  /** Older readings that fill a gap after the newest was already shown (a backfill that failed at first), oldest first. */
  backfill: [GlucoseReading[]];
  stale: [StaleInfo];
  fresh: [GlucoseReading];
  error: [CgmError];
  halted: [CgmError];
}

/**
 * Follows one subject of one source: asks when this subject's next reading usually appears (its upload
 * lag is learned from what the requests saw, `LagModel`; not on a fixed beat), shows the latest value first and fills gaps after an outage from history, emits each reading once and
 * in order, reports stale data (continuous sensors only), and stops asking when the account itself is
 * refused. Readings stamped more than `MAX_AHEAD_MS` ahead are logged and skipped, so one bad timestamp
 * cannot freeze the value; a cloud whose newest reading stays behind the last one shown is followed again.
 * Login waits (locks, backoff) are the login policy's: the poller only honours their `retryAfterMs`.
 */
export class Poller extends EventEmitter<PollerEvents> {
  readonly state: SubjectState;
  private readonly logger: Logger;
  private staleMs: number;
  private readonly jitterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private error: CgmError | undefined;
  private isHalted = false;
  private failures = 0;
  private misses = 0;
  private behind = 0;
  private startedAt = 0;
  /** Where a gap starts whose backfill failed (the instant of the last reading before it). */
  private gapFrom: number | undefined;
  private readonly warnedAhead = new Set<number>();
  /** The upload lag learned from this subject's readings: where the schedule aims (continuous sensors). */
  private readonly lag: LagModel | undefined;
  /** When the last answered poll started (epoch ms). */
  private lastAskedAt: number | undefined;

  constructor(
    readonly source: CgmSource,
    private readonly options: PollerOptions = {},
  ) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.staleMs = (options.staleMinutes ?? 15) * MINUTE;
    this.jitterMs = options.jitterMs ?? 4_000;
    this.lag = source.cadence.continuous
      ? new LagModel({
          initialLagMs: source.cadence.lagMs,
          jitterMs: this.jitterMs,
          stepMs: RETRY_STEP_MS,
          budget: READING_BUDGET,
        })
      : undefined;
    this.state =
      options.state ??
      new SubjectState({
        id: options.subject ?? source.provider,
        name: options.subject ?? source.provider,
        slug: 'subject',
        provider: source.provider,
        continuous: source.cadence.continuous,
      });
  }

  get last(): GlucoseReading | undefined {
    return this.state.last;
  }

  get stale(): boolean {
    return this.state.stale;
  }

  get lastError(): CgmError | undefined {
    return this.error;
  }

  get halted(): boolean {
    return this.isHalted;
  }

  /** True while a request to the cloud is under way. */
  get busy(): boolean {
    return this.inFlight !== undefined;
  }

  get subject(): string | undefined {
    return this.options.subject;
  }

  get staleMinutes(): number {
    return this.staleMs / MINUTE;
  }

  /** Changes after how long without a new reading the data is stale (a host's setting changed). */
  setStaleMinutes(minutes: number): void {
    if (minutes * MINUTE === this.staleMs) return;
    this.staleMs = minutes * MINUTE;
    this.armStaleTimer();
  }

  /** Starts (or resumes after `stop`, keeping what was shown) polling at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.isHalted = false;
    this.startedAt = Date.now();
    this.armStaleTimer();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
    await this.inFlight;
  }

  /** Polls at once (an input message, a push notification), then keeps the schedule. Never rejects. */
  async pollNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    clearTimeout(this.timer);
    await this.tick();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.running || this.isHalted) return;
    // A non-number (from a bad timestamp) must never become "at once, forever".
    const delay = Number.isFinite(delayMs) ? Math.max(0, delayMs) : MINUTE;
    this.timer = setTimeout(() => void this.tick(), delay);
  }

  private tick(): Promise<void> {
    const run = this.poll().finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = run;
    return run;
  }

  private async poll(): Promise<void> {
    let next: number;
    try {
      const askedAt = Date.now();
      const { fresh, backfill } = await this.fetchNew();
      // A request that finished after stop(): its result belongs to nobody now.
      if (!this.running) return;
      this.failures = 0;
      this.error = undefined;
      if (fresh.length > 0) this.misses = 0;
      else this.misses += 1;
      if (backfill.length > 0) this.emit('backfill', backfill);
      for (const reading of fresh) this.accept(reading);
      this.learn(askedAt, fresh.at(-1));
      next = nextPollDelay({
        cadence: this.source.cadence,
        last: this.state.last?.time.getTime(),
        misses: this.misses,
        now: Date.now(),
        jitterMs: Math.round(Math.random() * this.jitterMs),
        plan: this.lag && {
          aimMs: this.lag.aimMs,
          stepMs: RETRY_STEP_MS,
          budget: READING_BUDGET,
          probeMs: this.lag.probeMs,
        },
      });
    } catch (thrown) {
      // A request cut by stop() (the client closing, a login still waiting for its turn) is no failure.
      if (!this.running) return;
      next = this.fail(toCgmError(thrown));
    }
    this.checkStale();
    if (next >= 0) this.schedule(next);
  }

  /**
   * The latest reading first (so a failing history never hides it), then history when there is a gap:
   * `fresh` are newer than anything shown, oldest first; `backfill` fills an earlier gap.
   */
  private async fetchNew(): Promise<{ fresh: GlucoseReading[]; backfill: GlucoseReading[] }> {
    const subject = this.options.subject;
    const { readingIntervalMs, maxHistoryMinutes } = this.source.cadence;
    const now = Date.now();
    const since = this.state.last?.time.getTime();
    const latestAnswer = await this.source.latest(subject);
    const latest = latestAnswer && this.inTime(latestAnswer, now) ? latestAnswer : null;

    if (latest && since !== undefined && this.fellBehind(latest, since)) return { fresh: [], backfill: [] };

    const initialMinutes = this.options.initialHistoryMinutes ?? 0;
    const gapStart = this.gapFrom ?? since;
    const gap =
      since === undefined
        ? initialMinutes > 0
        : this.gapFrom !== undefined ||
          (latest !== null && latest.time.getTime() - since > readingIntervalMs * 1.5);
    let history: GlucoseReading[] = [];
    if (gap) {
      const minutes =
        since === undefined
          ? Math.min(initialMinutes, maxHistoryMinutes)
          : Math.min(maxHistoryMinutes, Math.ceil((now - (gapStart ?? since)) / MINUTE) + 1);
      try {
        history = (
          await this.source.history(subject === undefined ? { minutes } : { minutes, subject })
        ).filter((reading) => this.inTime(reading, now));
        if (history.length > 0)
          this.logger.debug(`backfilled ${history.length} readings from the last ${minutes} min`);
        this.gapFrom = undefined;
      } catch (thrown) {
        const error = toCgmError(thrown);
        if (stopsPolling(error)) throw error;
        if (since !== undefined && this.gapFrom === undefined) this.gapFrom = since;
        this.logger.warn(
          `backfill of the last ${minutes} min failed (${error.code}); showing the latest value, filling the gap later`,
        );
      }
    }

    const byTime = new Map<number, GlucoseReading>();
    for (const reading of latest ? [...history, latest] : history)
      byTime.set(reading.time.getTime(), reading);
    const sorted = [...byTime.values()].sort((a, b) => a.time.getTime() - b.time.getTime());
    if (since === undefined) return { fresh: initialMinutes > 0 ? sorted : sorted.slice(-1), backfill: [] };
    return {
      fresh: sorted.filter((r) => r.time.getTime() > since),
      backfill:
        gapStart === undefined
          ? []
          : sorted.filter((r) => r.time.getTime() > gapStart && r.time.getTime() < since),
    };
  }

  /**
   * Tells the lag model when the newest reading first showed: after the last request that came back
   * without it (a lower bound, when that request was after its instant) and at most at this one.
   */
  private learn(askedAt: number, newest: GlucoseReading | undefined): void {
    const before = this.lastAskedAt;
    this.lastAskedAt = askedAt;
    if (!this.lag || !newest || before === undefined || this.state.last !== newest) return;
    const time = newest.time.getTime();
    this.lag.observe(before - time, askedAt - time);
  }

  /** False (logged once per instant) for a reading stamped too far ahead of this host's clock. */
  private inTime(reading: GlucoseReading, now: number): boolean {
    const time = reading.time.getTime();
    if (Number.isFinite(time) && time <= now + MAX_AHEAD_MS) return true;
    if (!this.warnedAhead.has(time)) {
      if (this.warnedAhead.size > 100) this.warnedAhead.clear();
      this.warnedAhead.add(time);
      const when = Number.isFinite(time) ? reading.time.toISOString() : 'an invalid time';
      this.logger.warn(
        `a reading stamped ${when} is ahead of this host's clock by more than ${MAX_AHEAD_MS / MINUTE} min; ` +
          'not shown (check the clocks)',
      );
    }
    return false;
  }

  /**
   * True while the cloud's newest reading is older than the last one shown; after `REBASE_AFTER_POLLS`
   * such polls that reading becomes the current one again (the cloud is the truth).
   */
  private fellBehind(latest: GlucoseReading, since: number): boolean {
    if (latest.time.getTime() >= since) {
      this.behind = 0;
      return false;
    }
    this.behind += 1;
    if (this.behind < REBASE_AFTER_POLLS) return true;
    this.behind = 0;
    this.gapFrom = undefined;
    this.logger.warn(
      `the cloud's newest reading (${latest.time.toISOString()}) stays older than the last one shown ` +
        `(${new Date(since).toISOString()}); following the cloud again`,
    );
    this.state.rebase(latest);
    this.emitReading(latest);
    return true;
  }

  private accept(reading: GlucoseReading): void {
    if (!this.state.accept(reading)) return;
    this.emitReading(reading);
  }

  private emitReading(reading: GlucoseReading): void {
    // Fresh again before the reading goes out, so hosts render it as fresh at once.
    const freshAgain = this.state.stale && Date.now() - reading.time.getTime() <= this.staleMs;
    if (freshAgain) this.state.setStale(false);
    this.emit('reading', reading);
    if (freshAgain) this.emit('fresh', reading);
    this.armStaleTimer();
  }

  /** Reports the failure; returns the delay before the next attempt, or -1 when polling stops. */
  private fail(error: CgmError): number {
    this.error = error;
    this.failures += 1;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.logger.warn(`${error.code}: ${error.message}`);
    if (stopsPolling(error)) {
      this.isHalted = true;
      this.emit('halted', error);
      this.logger.error(`polling stopped: ${error.code}${error.hint ? ` (${error.hint})` : ''}`);
      return -1;
    }
    return failureDelay(this.failures, error);
  }

  private armStaleTimer(): void {
    clearTimeout(this.staleTimer);
    if (!this.running || !this.state.continuous) return;
    const from = this.state.last?.time.getTime() ?? this.startedAt;
    const wait = Math.min(Math.max(0, from + this.staleMs - Date.now()), 24 * 60 * MINUTE) + 1;
    this.staleTimer = setTimeout(() => this.checkStale(), wait);
  }

  private checkStale(): void {
    if (!this.running || this.state.stale || !this.state.continuous) return;
    const last = this.state.last;
    const from = last?.time.getTime() ?? this.startedAt;
    const age = Date.now() - from;
    if (age <= this.staleMs) {
      this.armStaleTimer();
      return;
    }
    this.state.setStale(true);
    this.emit('stale', {
      subject: this.options.subject ?? last?.subject,
      last,
      ageMs: last ? age : undefined,
    });
  }
}
