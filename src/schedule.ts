import type { CgmError } from './model/errors';
import type { Cadence } from './providers/provider';

/** Without a learned plan (spot-check devices, nothing read yet): at most one request a minute. */
export const MIN_POLL_INTERVAL_MS = 60_000;
/**
 * The longest pause between data requests while a cloud keeps failing: short, so the first reading
 * after an outage comes within a few minutes. Logins have their own, longer backoff (login policy).
 */
export const MAX_BACKOFF_MS = 150_000;
/** After a miss, the next request for the same reading comes this much later. */
export const RETRY_STEP_MS = 20_000;
/** Requests for one expected reading (the first and its retries) before waiting for the next one. */
export const READING_BUDGET = 4;
/** Never two requests closer than this, whatever the plan says (a slow answer, a manual poll). */
export const MIN_GAP_MS = 5_000;
/** After this many expected readings in a row did not come (warm-up, signal loss), one request per slot. */
const GAP_SLOTS = 3;
/** In a long gap the slots asked for are at least this far apart. */
const LONG_GAP_PAUSE_MS = 5 * 60_000;
/** The retries for the second and third missing readings of a gap. */
const GAP_TRIES = 2;

/** Where the poller aims, learned per subject (`LagModel`). */
export interface PollPlan {
  /** Offset (ms) after a reading's expected instant for the first request. */
  aimMs: number;
  /** Time between two requests for the same reading (ms). */
  stepMs: number;
  /** Requests for the expected reading before falling back to the next slot. */
  budget: number;
  /** An extra, earlier first request for the next reading (ms after its instant), to keep learning. */
  probeMs?: number | undefined;
}

/** What the schedule needs to know after a successful poll. */
export interface ScheduleInput {
  cadence: Cadence;
  /** The instant (epoch ms) of the newest reading, if any. */
  last: number | undefined;
  /** Polls in a row that brought nothing new (used without a plan). */
  misses: number;
  now: number;
  /** A random part (ms) added so many accounts do not poll in lock-step. */
  jitterMs: number;
  /** The learned plan; without one (spot-check devices) the fixed cadence applies. */
  plan?: PollPlan | undefined;
}

/**
 * With a plan (continuous sensors): the first request for the next reading at its expected instant +
 * the learned aim; after a miss, retries every `stepMs` up to the budget; then the following readings'
 * slots: two tries each for the next two, and once the gap is long (warm-up, signal loss) one request
 * per slot, at least `LONG_GAP_PAUSE_MS` apart. Without a plan: just after the next reading is due,
 * every minute while it is late, then gently less often.
 */
export function nextPollDelay(input: ScheduleInput): number {
  const { cadence, last, now, jitterMs, plan } = input;
  if (plan && last !== undefined && Number.isFinite(last) && cadence.latestIntervalMs > 0) {
    const at = plannedTime(plan, cadence.latestIntervalMs, last + jitterMs, now + MIN_GAP_MS);
    if (at !== undefined) return at - now;
  }
  return fixedDelay(input);
}

/** The first planned request after `notBefore`, counting slots from the newest reading (`from`). */
function plannedTime(
  plan: PollPlan,
  intervalMs: number,
  from: number,
  notBefore: number,
): number | undefined {
  const longGapEvery = Math.max(1, Math.ceil(LONG_GAP_PAUSE_MS / intervalMs));
  // Slots that are wholly past need no look; start a little before the one `notBefore` falls in.
  const span = plan.aimMs + plan.stepMs * plan.budget;
  const skip = Math.max(0, Math.floor((notBefore - from - span) / intervalMs) - 1);
  for (let slot = Math.max(1, skip); slot < skip + 1 + 2 * longGapEvery + GAP_SLOTS + 2; slot += 1) {
    const tries = slot === 1 ? plan.budget : slot <= GAP_SLOTS ? GAP_TRIES : 1;
    if (slot > GAP_SLOTS && (slot - GAP_SLOTS) % longGapEvery !== 0) continue;
    const first = from + slot * intervalMs + plan.aimMs;
    const probe = slot === 1 && plan.probeMs !== undefined ? from + intervalMs + plan.probeMs : undefined;
    if (probe !== undefined && probe < first && probe >= notBefore) return probe;
    for (let k = 0; k < tries; k += 1) {
      const at = first + k * plan.stepMs;
      if (at >= notBefore) return at;
    }
  }
  return undefined;
}

/** The schedule without a plan: the cadence's fixed lag, every minute while late, then less often. */
function fixedDelay(input: ScheduleInput): number {
  const { cadence, last, misses, now, jitterMs } = input;
  if (last !== undefined && Number.isFinite(last)) {
    const due = last + cadence.latestIntervalMs + cadence.lagMs + jitterMs - now;
    if (due >= MIN_POLL_INTERVAL_MS && due <= cadence.latestIntervalMs + cadence.lagMs + jitterMs) return due;
  }
  const lateFactor = misses <= 5 ? 1 : Math.min(5, misses - 4);
  return MIN_POLL_INTERVAL_MS * lateFactor + jitterMs;
}

/**
 * Backoff after `failures` failed polls in a row: one minute, then two, then 2–2.5 minutes at most,
 * with jitter; a server's Retry-After wins.
 */
export function failureDelay(failures: number, error: CgmError, random: () => number = Math.random): number {
  const backoff = Math.min(MAX_BACKOFF_MS, MIN_POLL_INTERVAL_MS * 2 ** Math.max(0, failures - 1));
  const jittered = Math.round(backoff * (0.8 + random() * 0.2));
  const retryAfter = Number.isFinite(error.retryAfterMs) ? (error.retryAfterMs ?? 0) : 0;
  return Math.max(jittered, retryAfter, MIN_POLL_INTERVAL_MS * 0.8);
}
