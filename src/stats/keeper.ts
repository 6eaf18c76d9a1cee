import { EventEmitter } from 'node:events';
import type { AccountFollower } from '../follow/follower';
import type { SubjectState } from '../follow/subject-state';
import { toCgmError } from '../model/errors';
import { silentLogger, type Logger } from '../model/logger';
import { computeStatistics, DAY_MS, type GlucoseStatistics } from './statistics';

/** Statistics are computed again at most this often (the sensors store a reading every 5 minutes). */
export const STATISTICS_REFRESH_MS = 5 * 60_000;
/** After a failed load of the cloud's history, the next attempt waits this long. */
const HISTORY_RETRY_MS = 30 * 60_000;
const MINUTE = 60_000;

export interface StatisticsKeeperOptions {
  logger?: Logger;
  /** For tests: the clock (epoch ms). */
  now?: () => number;
  /** Default `STATISTICS_REFRESH_MS`. */
  refreshMs?: number;
  /**
   * Turns shared by every account of a host (a `TurnLimiter` with a few in flight): a bridge starting a
   * thousand people then loads their day a few at a time, behind their first readings, and never holds
   * a thousand parsed histories at once. Without it each load starts at once.
   */
  historyTurns?: { turn(): Promise<() => void> };
}

export interface StatisticsKeeperEvents {
  /** A person's statistics changed (computed again with different numbers, not only a later window). */
  statistics: [SubjectState, GlucoseStatistics];
}

interface Kept {
  statistics: GlucoseStatistics;
  at: number;
}

interface HistoryLoad {
  done: boolean;
  failedAt?: number;
  loading?: Promise<void>;
}

/**
 * The last-24-hours statistics of every continuous sensor an account follows (spot-check meters have
 * none: their readings are not a day's curve). Each person's own history (`SubjectState.recent`: what the
 * follower saw) is completed once with the cloud's history (Dexcom gives 24 h, LibreLinkUp 12 h), loaded
 * after their first reading, when the login is known to work. Results are cached and computed again at
 * most every `refreshMs` (as a reading is published, or as the window slides), and once more when
 * that history arrives.
 *
 * Hosts either `start()` it (the bridge: it recomputes on its own as readings come and the window
 * slides, and emits `statistics`) or ask `statistics(subject)` when they need them (Node-RED).
 */
export class StatisticsKeeper extends EventEmitter<StatisticsKeeperEvents> {
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly refreshMs: number;
  private readonly historyTurns: StatisticsKeeperOptions['historyTurns'];
  private readonly kept = new Map<SubjectState, Kept>();
  private readonly loads = new Map<SubjectState, HistoryLoad>();
  private timer: NodeJS.Timeout | undefined;
  private started = false;

  constructor(
    private readonly follower: AccountFollower,
    options: StatisticsKeeperOptions = {},
  ) {
    super();
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.refreshMs = options.refreshMs ?? STATISTICS_REFRESH_MS;
    this.historyTurns = options.historyTurns;
  }

  /** Follows the follower's readings: loads each person's history once, recomputes every `refreshMs`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.follower.on('reading', this.onReading);
    this.follower.on('removed', this.onRemoved);
    this.timer = setInterval(() => this.refreshDue(), Math.min(this.refreshMs, MINUTE));
    this.timer.unref?.();
  }

  stop(): void {
    this.started = false;
    clearInterval(this.timer);
    this.follower.off('reading', this.onReading);
    this.follower.off('removed', this.onRemoved);
  }

  /** The statistics last computed for a person (undefined before any, or for a spot-check device). */
  current(subject: SubjectState): GlucoseStatistics | undefined {
    return this.kept.get(subject)?.statistics;
  }

  /**
   * A person's statistics now, for a host that asks (Node-RED): the cloud's history is loaded the first
   * time; later, when nothing feeds the person (no poll), the readings since the newest one held are
   * fetched; the cached result is returned while it is younger than `refreshMs`. Rejects with CgmError
   * when the first load fails; undefined for a spot-check device.
   */
  async statistics(subject: SubjectState): Promise<GlucoseStatistics | undefined> {
    if (!subject.continuous) return undefined;
    const kept = this.kept.get(subject);
    if (kept && this.now() - kept.at < this.refreshMs) return kept.statistics;
    const load = this.loads.get(subject);
    if (!load?.done) await this.loadHistory(subject, true);
    else await this.fillGap(subject);
    return this.refresh(subject);
  }

  /**
   * A person's statistics for a reading being published: the cached ones while younger than
   * `refreshMs`, otherwise computed now (and not emitted: the caller publishes them with the reading).
   */
  fresh(subject: SubjectState): GlucoseStatistics | undefined {
    if (!subject.continuous) return undefined;
    const kept = this.kept.get(subject);
    if (kept && this.now() - kept.at < this.refreshMs) return kept.statistics;
    return this.compute(subject, false);
  }

  /** Computes a person's statistics now (no cache) and emits them when they changed. */
  refresh(subject: SubjectState): GlucoseStatistics | undefined {
    if (!subject.continuous) return undefined;
    return this.compute(subject, true);
  }

  private compute(subject: SubjectState, emit: boolean): GlucoseStatistics {
    const statistics = computeStatistics(subject.recent.readings, {
      now: this.now(),
      intervalMs: this.intervalMs(),
    });
    const before = this.kept.get(subject)?.statistics;
    this.kept.set(subject, { statistics, at: this.now() });
    if (emit && metrics(before) !== metrics(statistics)) this.safeEmit(subject, statistics);
    return statistics;
  }

  private readonly onReading = (subject: SubjectState): void => {
    if (subject.continuous) void this.loadHistory(subject, false).catch(() => undefined);
  };

  private readonly onRemoved = (subject: SubjectState): void => {
    this.kept.delete(subject);
    this.loads.delete(subject);
  };

  /** The window slides even without readings: statistics older than `refreshMs` are computed again. */
  private refreshDue(): void {
    for (const [subject, kept] of this.kept)
      if (this.now() - kept.at >= this.refreshMs) this.refresh(subject);
  }

  /** The cloud's history of the last day (or what it gives), once per person; then computed again. */
  private loadHistory(subject: SubjectState, rethrow: boolean): Promise<void> {
    const load = this.loads.get(subject) ?? { done: false };
    this.loads.set(subject, load);
    if (load.done) return Promise.resolve();
    if (load.loading) return load.loading;
    // After a failure the next attempt waits; meanwhile what is held still gives statistics.
    if (load.failedAt !== undefined && this.now() - load.failedAt < HISTORY_RETRY_MS)
      return Promise.resolve();
    const minutes = this.historyMinutes();
    load.loading = this.loadDay(subject, minutes)
      .then(() => {
        load.done = true;
        this.logger.debug(`${subject.name}: the cloud's last ${minutes} min loaded for the statistics`);
        // Once more, outside the 5-minute rhythm: the day's curve has just arrived.
        this.refresh(subject);
      })
      .catch((thrown: unknown) => {
        load.failedAt = this.now();
        const error = toCgmError(thrown);
        this.logger.debug(`${subject.name}: history for the statistics not loaded (${error.code})`);
        if (rethrow) throw error;
      })
      .finally(() => {
        load.loading = undefined;
      });
    return load.loading;
  }

  /** The cloud's last `minutes` for a person, in a turn when the host shares them out. */
  private async loadDay(subject: SubjectState, minutes: number): Promise<void> {
    const release = this.historyTurns ? await this.historyTurns.turn() : undefined;
    try {
      // A keeper stopped while it waited for its turn loads nothing.
      if (this.historyTurns && !this.started) return;
      await this.follower.history(subject, minutes);
    } finally {
      release?.();
    }
  }

  /** Readings since the newest one held, when nothing has fed the person for more than an interval and a half. */
  private async fillGap(subject: SubjectState): Promise<void> {
    const newest = subject.recent.newestTime;
    const interval = this.intervalMs();
    if (newest !== undefined && this.now() - newest <= interval * 1.5) return;
    const since = newest ?? this.now() - DAY_MS;
    const minutes = Math.min(this.historyMinutes(), Math.ceil((this.now() - since) / MINUTE) + 1);
    try {
      await this.follower.history(subject, minutes);
    } catch (thrown) {
      // What is held still gives statistics; the gap shows as lower coverage.
      this.logger.debug(
        `${subject.name}: readings since ${new Date(since).toISOString()} not loaded (${toCgmError(thrown).code})`,
      );
    }
  }

  private historyMinutes(): number {
    return Math.min(DAY_MS / MINUTE, this.follower.source.cadence.maxHistoryMinutes);
  }

  private intervalMs(): number {
    try {
      return this.follower.source.cadence.readingIntervalMs;
    } catch {
      return 5 * MINUTE;
    }
  }

  private safeEmit(subject: SubjectState, statistics: GlucoseStatistics): void {
    try {
      this.emit('statistics', subject, statistics);
    } catch (thrown) {
      this.logger.error(`a handler of "statistics" failed: ${toCgmError(thrown).message}`);
    }
  }
}

/** The numbers of a result without its window: a window that only moved on is no news. */
function metrics(statistics: GlucoseStatistics | undefined): string {
  if (!statistics) return '';
  const { from: _from, to: _to, ...numbers } = statistics;
  return JSON.stringify(numbers);
}

const keepers = new WeakMap<AccountFollower, StatisticsKeeper>();

/** The one keeper of a follower, for hosts that ask on demand (every Node-RED node of one account shares it). */
export function statisticsKeeper(
  follower: AccountFollower,
  options?: StatisticsKeeperOptions,
): StatisticsKeeper {
  let keeper = keepers.get(follower);
  if (!keeper) {
    keeper = new StatisticsKeeper(follower, options);
    keepers.set(follower, keeper);
  }
  return keeper;
}
