import type { CgmError } from './model/errors';
import type { Cadence } from './providers/provider';

/** Never ask a cloud more often than this, whatever the schedule says. */
export const MIN_POLL_INTERVAL_MS = 60_000;
/**
 * The longest pause between data requests while a cloud keeps failing: short, so the first reading
 * after an outage comes within a few minutes. Logins have their own, longer backoff (login policy).
 */
export const MAX_BACKOFF_MS = 150_000;

/** What the schedule needs to know after a successful poll. */
export interface ScheduleInput {
  cadence: Cadence;
  /** The instant (epoch ms) of the newest reading, if any. */
  last: number | undefined;
  /** Polls in a row that brought nothing new. */
  misses: number;
  now: number;
  /** A random part (ms) added so many accounts do not poll in lock-step. */
  jitterMs: number;
}

/**
 * Just after the next reading is due (last reading + interval + the cloud's usual lag); when it is late,
 * every minute for a while, then gently less often (a sensor warming up, a phone out of range).
 */
export function nextPollDelay(input: ScheduleInput): number {
  const { cadence, last, misses, now, jitterMs } = input;
  if (last !== undefined && Number.isFinite(last)) {
    const due = last + cadence.latestIntervalMs + cadence.lagMs + jitterMs - now;
    if (due >= MIN_POLL_INTERVAL_MS && due <= cadence.latestIntervalMs + cadence.lagMs + jitterMs) return due;
  }
  const lateFactor = misses <= 5 ? 1 : Math.min(5, misses - 4);
  return MIN_POLL_INTERVAL_MS * lateFactor + jitterMs;
}

/** Backoff after `failures` failed polls in a row, with jitter; a server's Retry-After wins. */
export function failureDelay(failures: number, error: CgmError, random: () => number = Math.random): number {
  const backoff = Math.min(MAX_BACKOFF_MS, MIN_POLL_INTERVAL_MS * 2 ** Math.max(0, failures - 1));
  const jittered = Math.round(backoff * (0.75 + random() * 0.25));
  const retryAfter = Number.isFinite(error.retryAfterMs) ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, retryAfter, MIN_POLL_INTERVAL_MS);
}
