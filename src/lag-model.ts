/**
 * What one subject's uploader has shown about its upload lag (the time from a reading's instant to
 * its first appearance in the cloud), and where to aim the next request from that.
 *
 * Each new reading gives an interval: the lag is above the offset of the last request that did not
 * see it yet (a miss is a lower bound) and at most the offset of the request that first saw it. The
 * model fits a lag distribution to these intervals by maximum likelihood: a uniform spread `m ± w`
 * blurred by logistic noise of scale `s` (seconds). That one family covers an uploader with a steady
 * lag (small `w`, small `s`) as well as an erratic one (wide `w`). Recent readings weigh more (a phone
 * that changes its habits is followed within hours). The aim is then the first-request offset that
 * minimises, over that distribution, the 95th percentile of freshness plus a price per extra request,
 * with retries at `stepMs` and the poller's jitter taken into account.
 */

/** Seconds of 95th-percentile freshness one extra request per reading is worth. */
const REQUEST_PRICE_S = 40;
/** Freshness (95th percentile, seconds) the aim reaches for before it saves requests. */
const FRESHNESS_GOAL_S = 28;
/** How much each second beyond the goal weighs, on top of the second itself. */
const OVER_GOAL_WEIGHT = 3;
/** The weight of a reading's observation halves about every 34 readings (about three hours of Dexcom). */
const DECAY = 0.98;
/** Observations kept (eight hours of Dexcom readings). */
const MAX_OBSERVATIONS = 96;
/** The aim moves earlier by at most this per reading (seconds): a run of hits probes down gently. */
const MAX_EARLIER_PER_READING_S = 3;
/**
 * Every this many readings the first request goes early, at the fitted lag's 15th percentile: hits
 * only say "the lag was shorter than the aim", so without such a probe a lag that got shorter (or was
 * never as long as first thought) would go unseen.
 */
const PROBE_EVERY = 12;
const PROBE_QUANTILE = 0.15;
/** Readings observed before the fit replaces the starting guess. */
const MIN_OBSERVATIONS = 6;
/**
 * Readings in a row the fit gave less than `SURPRISE_P` chance make the model forget what came before
 * them: the uploader changed (a new phone, a battery saver), and its past would only blur the new lag.
 */
const SURPRISES_TO_FORGET = 3;
const SURPRISE_P = 0.1;
/** Points of the fitted distribution the aim is judged on. */
const QUANTILE_POINTS = 24;
const JITTER_POINTS = [1 / 6, 1 / 2, 5 / 6];

export interface LagModelOptions {
  /** The provider's typical lag (ms): where learning starts. */
  initialLagMs: number;
  /** The random part (0…jitterMs) the poller adds to each request. */
  jitterMs: number;
  /** Time between two retries for the same reading (ms). */
  stepMs: number;
  /** Requests for one reading before the schedule falls back to the next reading's slot. */
  budget: number;
}

/** The fitted lag distribution (seconds): uniform on m ± w, blurred by logistic noise of scale s. */
export interface LagFit {
  m: number;
  w: number;
  s: number;
}

interface Observation {
  /** Lag lower bound (s), or -Infinity when no request missed the reading. */
  lo: number;
  /** Lag upper bound (s). */
  hi: number;
}

export class LagModel {
  private readonly observations: Observation[] = [];
  private observed = 0;
  private surprises = 0;
  private params: LagFit;
  private aimS: number;
  private readonly jitterS: number;
  private readonly stepS: number;

  constructor(private readonly options: LagModelOptions) {
    const lag = Math.max(0, options.initialLagMs / 1000);
    this.params = { m: lag, w: lag, s: 2 };
    this.jitterS = Math.max(0, options.jitterMs / 1000);
    this.stepS = options.stepMs / 1000;
    this.aimS = bestAim(this.params, this.jitterS, this.stepS, options.budget);
  }

  /** Offset (ms) after a reading's instant for the first request for it (before jitter). */
  get aimMs(): number {
    return Math.round(this.aimS * 1000);
  }

  /**
   * An earlier first request (ms after the reading's instant) for the next reading, every
   * `PROBE_EVERY` readings; undefined when none is due or it would not be earlier than the aim.
   */
  get probeMs(): number | undefined {
    if (this.observed < MIN_OBSERVATIONS || this.observed % PROBE_EVERY !== PROBE_EVERY - 1) return undefined;
    const probe = lagQuantile(PROBE_QUANTILE, this.params);
    return probe < this.aimS - 5 ? Math.round(probe * 1000) : undefined;
  }

  /** The current fit (seconds), for tests and diagnostics. */
  get fit(): LagFit {
    return { ...this.params };
  }

  /** Readings learned from so far (at most `MAX_OBSERVATIONS`). */
  get size(): number {
    return this.observations.length;
  }

  /**
   * One reading's lag, as far as the requests tell: above `missedAtMs` (the offset of the last request
   * that did not see it; undefined when none did) and at most `seenAtMs` (the request that saw it).
   * Offsets are ms after the reading's instant. Meaningless intervals are ignored.
   */
  observe(missedAtMs: number | undefined, seenAtMs: number): void {
    const hi = seenAtMs / 1000;
    const lo = missedAtMs === undefined ? -Infinity : missedAtMs / 1000;
    if (!Number.isFinite(hi) || Number.isNaN(lo) || lo >= hi) return;
    const chance = lagCdf(hi, this.params) - lagCdf(lo, this.params);
    this.surprises = this.observed >= MIN_OBSERVATIONS && chance < SURPRISE_P ? this.surprises + 1 : 0;
    this.observations.push({ lo, hi });
    this.observed += 1;
    if (this.surprises >= SURPRISES_TO_FORGET) {
      this.observations.splice(0, this.observations.length - SURPRISES_TO_FORGET);
      this.surprises = 0;
    }
    if (this.observations.length > MAX_OBSERVATIONS) this.observations.shift();
    if (this.observed < MIN_OBSERVATIONS) return;
    this.params = fitLag(this.observations, this.params);
    const best = bestAim(this.params, this.jitterS, this.stepS, this.options.budget);
    this.aimS = Math.max(best, this.aimS - MAX_EARLIER_PER_READING_S);
  }
}

function softplus(z: number): number {
  return z > 30 ? z : Math.log1p(Math.exp(z));
}

/** P(lag ≤ x) under the fit. */
export function lagCdf(x: number, { m, w, s }: LagFit): number {
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  if (w < 1e-3) return 1 / (1 + Math.exp(-(x - m) / s));
  return (s / (2 * w)) * (softplus((x - m + w) / s) - softplus((x - m - w) / s));
}

function lagQuantile(p: number, fit: LagFit): number {
  let lo = fit.m - fit.w - 40 * fit.s - 1;
  let hi = fit.m + fit.w + 40 * fit.s + 1;
  for (let i = 0; i < 40; i += 1) {
    const mid = (lo + hi) / 2;
    if (lagCdf(mid, fit) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function logLikelihood(observations: readonly Observation[], fit: LagFit): number {
  let total = 0;
  let weight = 1;
  // Far below the distribution the CDF is 0 to the precision that matters here.
  const floor = fit.m - fit.w - 25 * fit.s;
  for (let i = observations.length - 1; i >= 0; i -= 1) {
    const { lo, hi } = observations[i]!;
    const p = lagCdf(hi, fit) - (lo < floor ? 0 : lagCdf(lo, fit));
    total += weight * Math.log(Math.max(p, 1e-9));
    weight *= DECAY;
  }
  return total;
}

const LIMITS = { m: [-300, 900], w: [0, 300], s: [0.3, 30] } as const;

function clampFit(fit: LagFit): LagFit {
  return {
    m: Math.min(LIMITS.m[1], Math.max(LIMITS.m[0], fit.m)),
    w: Math.min(LIMITS.w[1], Math.max(LIMITS.w[0], fit.w)),
    s: Math.min(LIMITS.s[1], Math.max(LIMITS.s[0], fit.s)),
  };
}

/**
 * A rough fit read straight off the intervals (narrow ones by their middle, the others by their upper
 * bound): a second starting point, for when the lag moved where the previous fit gives no chance at all.
 */
function roughFit(observations: readonly Observation[]): LagFit | undefined {
  const points = observations
    .map(({ lo, hi }) => (hi - lo <= 60 ? (lo + hi) / 2 : hi))
    .slice(-24)
    .sort((a, b) => a - b);
  if (points.length === 0) return undefined;
  const at = (q: number) => points[Math.min(points.length - 1, Math.floor(q * points.length))]!;
  return { m: at(0.5), w: (at(0.9) - at(0.1)) / 2, s: 1 };
}

/**
 * Hill climbing from the better of the previous fit and a rough one: one new observation moves the fit
 * little, so a few steps do.
 */
export function fitLag(observations: readonly Observation[], start: LagFit): LagFit {
  let current = clampFit(start);
  let best = logLikelihood(observations, current);
  const rough = roughFit(observations);
  if (rough) {
    const candidate = clampFit(rough);
    const value = logLikelihood(observations, candidate);
    if (value > best) {
      best = value;
      current = candidate;
    }
  }
  let step = 2;
  let scale = 0.25;
  for (let i = 0; i < 40 && step >= 0.1; i += 1) {
    const candidates: LagFit[] = [
      { ...current, m: current.m + step },
      { ...current, m: current.m - step },
      { ...current, w: current.w + step },
      { ...current, w: current.w - step },
      { ...current, m: current.m + step / 2, w: current.w + step / 2 },
      { ...current, m: current.m - step / 2, w: current.w + step / 2 },
      { ...current, s: current.s * (1 + scale) },
      { ...current, s: current.s / (1 + scale) },
    ];
    let improved = false;
    for (const raw of candidates) {
      const candidate = clampFit(raw);
      const value = logLikelihood(observations, candidate);
      if (value > best + 1e-9) {
        best = value;
        current = candidate;
        improved = true;
      }
    }
    if (!improved) {
      step /= 2;
      scale /= 2;
    }
  }
  return current;
}

/**
 * The first-request offset (s) that minimises p95(freshness) + price × (requests per reading − 1)
 * (and more steeply so past the freshness goal), over the fitted lags and the jitter.
 */
export function bestAim(fit: LagFit, jitterS: number, stepS: number, budget: number): number {
  const lags: number[] = [];
  for (let i = 0; i < QUANTILE_POINTS; i += 1) lags.push(lagQuantile((i + 0.5) / QUANTILE_POINTS, fit));
  const from = Math.floor(lags[0]! - jitterS);
  const to = Math.ceil(lags[lags.length - 1]! + 1);
  const samples = lags.length * JITTER_POINTS.length;
  const rank = Math.floor(0.95 * samples);
  const freshness = new Float64Array(samples);
  let best = to;
  let bestCost = Infinity;
  for (let aim = from; aim <= to; aim += 1) {
    let requests = 0;
    let n = 0;
    for (const lag of lags) {
      for (const part of JITTER_POINTS) {
        const first = aim + part * jitterS;
        const retries = Math.max(0, Math.ceil((lag - first) / stepS));
        if (retries >= budget) {
          // Past the budget: caught at a later slot; counted as very late and one more request.
          requests += budget + 1;
          freshness[n] = 120 + lag - first;
        } else {
          requests += retries + 1;
          freshness[n] = first + retries * stepS - lag;
        }
        n += 1;
      }
    }
    freshness.sort();
    const p95 = freshness[rank]!;
    const cost =
      p95 +
      REQUEST_PRICE_S * (requests / samples - 1) +
      OVER_GOAL_WEIGHT * Math.max(0, p95 - FRESHNESS_GOAL_S);
    if (cost < bestCost) {
      bestCost = cost;
      best = aim;
    }
  }
  return best;
}
