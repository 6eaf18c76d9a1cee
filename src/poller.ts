import { EventEmitter } from 'node:events';
import { type CgmError, stopsPolling, toCgmError } from './model/errors';
import type { Logger } from './model/logger';
import { silentLogger } from './model/logger';
import type { GlucoseReading } from './model/reading';
import type { CgmSource, SessionState } from './providers/provider';

export interface PollerOptions {
  /** The subject to follow (a LibreLinkUp patient); default the source's own choice. */
  subject?: string;
  /** No new reading for this long means stale. */
  staleMinutes?: number;
  /** History emitted at the first start, before following (0: only the latest reading). */
  initialHistoryMinutes?: number;
  logger?: Logger;
  /** Random part added to each scheduled poll, so many accounts do not poll in lock-step. */
  jitterMs?: number;
}

export interface StaleInfo {
  subject: string | undefined;
  last: GlucoseReading | undefined;
  ageMs: number | undefined;
}

/** Never ask a cloud more often than this, whatever the schedule says. */
export const MIN_POLL_INTERVAL_MS = 60_000;
/** The longest pause between attempts while a cloud keeps failing. */
export const MAX_BACKOFF_MS = 15 * 60_000;
const MINUTE = 60_000;

export interface PollerEvents {
  reading: [GlucoseReading];
  stale: [StaleInfo];
  fresh: [GlucoseReading];
  error: [CgmError];
  halted: [CgmError];
  session: [SessionState];
}

/**
 * Follows one subject of one source: asks just after the next reading is due (not on a fixed beat),
 * fills gaps after an outage from history, emits each reading once and in order, reports stale data,
 * and stops asking when the account itself is refused (a wrong password retried locks Dexcom accounts).
 */
export class Poller extends EventEmitter<PollerEvents> {
  private readonly logger: Logger;
  private readonly staleMs: number;
  private readonly jitterMs: number;
  private timer: NodeJS.Timeout | undefined;
  private staleTimer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private lastReading: GlucoseReading | undefined;
  private error: CgmError | undefined;
  private isStale = false;
  private isHalted = false;
  private failures = 0;
  private misses = 0;
  private startedAt = 0;
  private unsubscribe: (() => void) | undefined;

  constructor(
    readonly source: CgmSource,
    private readonly options: PollerOptions = {},
  ) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.staleMs = (options.staleMinutes ?? 15) * MINUTE;
    this.jitterMs = options.jitterMs ?? 10_000;
  }

  get last(): GlucoseReading | undefined {
    return this.lastReading;
  }

  get stale(): boolean {
    return this.isStale;
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

  start(): void {
    if (this.running) return;
    this.running = true;
    this.isHalted = false;
    this.startedAt = Date.now();
    this.unsubscribe = this.source.onSession((state) => this.emit('session', state));
    this.armStaleTimer();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    clearTimeout(this.staleTimer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.inFlight;
  }

  /** Polls at once (an input message, a push notification), then keeps the schedule. */
  async pollNow(): Promise<void> {
    if (this.inFlight) return this.inFlight;
    clearTimeout(this.timer);
    await this.tick();
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    if (!this.running || this.isHalted) return;
    this.timer = setTimeout(() => void this.tick(), delayMs);
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
      const fresh = await this.fetchNew();
      this.failures = 0;
      this.error = undefined;
      if (fresh.length > 0) this.misses = 0;
      else this.misses += 1;
      for (const reading of fresh) this.accept(reading);
      next = this.nextDelay();
    } catch (thrown) {
      next = this.fail(toCgmError(thrown));
    }
    this.checkStale();
    if (next >= 0) this.schedule(next);
  }

  /** Readings newer than the last one emitted, oldest first: the latest, plus history when there is a gap. */
  private async fetchNew(): Promise<GlucoseReading[]> {
    const subject = this.options.subject;
    const { readingIntervalMs, lagMs, maxHistoryMinutes } = this.source.cadence;
    const since = this.lastReading?.time.getTime();
    const now = Date.now();
    let minutes = 0;
    if (since === undefined) minutes = this.options.initialHistoryMinutes ?? 0;
    else if (now - since > readingIntervalMs * 2 + lagMs) minutes = Math.ceil((now - since) / MINUTE) + 1;
    minutes = Math.min(minutes, maxHistoryMinutes);
    const found: GlucoseReading[] = [];
    if (minutes > 0) {
      const history = await this.source.history(subject === undefined ? { minutes } : { minutes, subject });
      found.push(...history);
      if (history.length > 0)
        this.logger.debug(`backfilled ${history.length} readings from the last ${minutes} min`);
    }
    const latest = await this.source.latest(subject);
    if (latest) found.push(latest);
    const byTime = new Map<number, GlucoseReading>();
    for (const reading of found) {
      const t = reading.time.getTime();
      if (since === undefined || t > since) byTime.set(t, reading);
    }
    const fresh = [...byTime.values()].sort((a, b) => a.time.getTime() - b.time.getTime());
    // At the first start without history, only the newest counts: older ones are not "new".
    return since === undefined && !this.options.initialHistoryMinutes ? fresh.slice(-1) : fresh;
  }

  private accept(reading: GlucoseReading): void {
    this.lastReading = reading;
    this.emit('reading', reading);
    if (this.isStale && Date.now() - reading.time.getTime() <= this.staleMs) {
      this.isStale = false;
      this.emit('fresh', reading);
    }
    this.armStaleTimer();
  }

  /** Just after the next reading is due; when it is late, every minute for a while, then gently less often. */
  private nextDelay(): number {
    const { latestIntervalMs, lagMs } = this.source.cadence;
    const jitter = Math.round(Math.random() * this.jitterMs);
    const last = this.lastReading?.time.getTime();
    if (last !== undefined) {
      const due = last + latestIntervalMs + lagMs + jitter - Date.now();
      if (due >= MIN_POLL_INTERVAL_MS) return due;
    }
    const lateFactor = this.misses <= 5 ? 1 : Math.min(5, this.misses - 4);
    return MIN_POLL_INTERVAL_MS * lateFactor + jitter;
  }

  /** Reports the failure; returns the delay before the next attempt, or -1 when polling stops. */
  private fail(error: CgmError): number {
    this.error = error;
    this.failures += 1;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else this.logger.warn(`${error.code}: ${error.message}`);
    if (error.code === 'ACCOUNT_LOCKED' && error.retryAfterMs !== undefined) {
      // Locked for a while: wait out the lock in one step rather than knocking on the door.
      this.logger.warn(`account locked; next attempt in ${Math.ceil(error.retryAfterMs / MINUTE)} min`);
      return Math.max(error.retryAfterMs, MIN_POLL_INTERVAL_MS);
    }
    if (stopsPolling(error)) {
      this.isHalted = true;
      this.emit('halted', error);
      this.logger.error(`polling stopped: ${error.code}${error.hint ? ` (${error.hint})` : ''}`);
      return -1;
    }
    const backoff = Math.min(MAX_BACKOFF_MS, MIN_POLL_INTERVAL_MS * 2 ** (this.failures - 1));
    const jittered = Math.round(backoff * (0.75 + Math.random() * 0.25));
    return Math.max(jittered, error.retryAfterMs ?? 0, MIN_POLL_INTERVAL_MS);
  }

  private armStaleTimer(): void {
    clearTimeout(this.staleTimer);
    if (!this.running) return;
    const from = this.lastReading?.time.getTime() ?? this.startedAt;
    const wait = Math.max(0, from + this.staleMs - Date.now()) + 1;
    this.staleTimer = setTimeout(() => this.checkStale(), wait);
  }

  private checkStale(): void {
    if (!this.running || this.isStale) return;
    const last = this.lastReading;
    const from = last?.time.getTime() ?? this.startedAt;
    const age = Date.now() - from;
    if (age <= this.staleMs) return;
    this.isStale = true;
    this.emit('stale', {
      subject: this.options.subject ?? last?.subject,
      last,
      ageMs: last ? age : undefined,
    });
  }
}
