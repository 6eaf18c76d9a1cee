// The poll schedule's decisions, on an injected clock: where the first request for a reading goes,
// how misses are retried within the budget, what a long gap costs, and what the lag model learns.
import { expect } from 'chai';
import { CgmError } from '../src/model/errors';
import { LagModel } from '../src/lag-model';
import { DEXCOM_CADENCE } from '../src/providers/dexcom/constants';
import {
  failureDelay,
  MAX_BACKOFF_MS,
  MIN_GAP_MS,
  nextPollDelay,
  READING_BUDGET,
  RETRY_STEP_MS,
  type PollPlan,
} from '../src/schedule';

const MINUTE = 60_000;
const FIVE = 5 * MINUTE;
// Any instant on the 5-minute grid; the schedule only counts from the last reading.
const T = Date.UTC(2026, 4, 4, 3, 35);
const PLAN: PollPlan = { aimMs: 25_000, stepMs: RETRY_STEP_MS, budget: READING_BUDGET };

function delay(now: number, plan: PollPlan | undefined = PLAN, jitterMs = 0): number {
  return nextPollDelay({ cadence: DEXCOM_CADENCE, last: T, misses: 0, now, jitterMs, plan });
}

/** xorshift: the same numbers on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

describe('poll schedule (decisions)', () => {
  it('asks for the next reading at its instant plus the learned aim plus jitter', () => {
    const now = T + 40_000;
    expect(now + delay(now)).to.equal(T + FIVE + 25_000);
    expect(now + delay(now, PLAN, 3_000)).to.equal(T + FIVE + 28_000);
  });

  it('after a miss retries every step, then falls back to the next reading within the budget', () => {
    let now = T + FIVE + 25_000;
    const asked = [now];
    for (let i = 0; i < 6; i += 1) {
      now += delay(now);
      asked.push(now);
    }
    const first = T + FIVE + 25_000;
    expect(asked.slice(0, READING_BUDGET)).to.deep.equal(
      Array.from({ length: READING_BUDGET }, (_, k) => first + k * RETRY_STEP_MS),
    );
    // The budget is spent: the next reading's slot, two tries for it, then the one after.
    expect(asked.slice(READING_BUDGET)).to.deep.equal([
      first + FIVE,
      first + FIVE + RETRY_STEP_MS,
      first + 2 * FIVE,
    ]);
  });

  it('asks once per reading slot, at least five minutes apart, once a gap is long (warm-up, signal loss)', () => {
    let now = T + 20 * MINUTE;
    const asked: number[] = [];
    for (let i = 0; i < 12; i += 1) {
      now += delay(now);
      asked.push(now);
    }
    const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
    expect(Math.min(...gaps)).to.equal(FIVE);
    expect(asked.every((at) => (at - T - 25_000) % FIVE === 0)).to.equal(true);
  });

  it('on a one-minute cadence (LibreLinkUp) a long gap is still asked at most every five minutes', () => {
    const cadence = { ...DEXCOM_CADENCE, latestIntervalMs: MINUTE, readingIntervalMs: FIVE };
    let now = T + 30 * MINUTE;
    const asked: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      now += nextPollDelay({ cadence, last: T, misses: 0, now, jitterMs: 0, plan: PLAN });
      asked.push(now);
    }
    const gaps = asked.slice(1).map((at, i) => at - asked[i]!);
    expect(Math.min(...gaps)).to.be.at.least(FIVE);
  });

  it('sends a probe before the aim when the model asks for one, and then the aim', () => {
    const plan = { ...PLAN, probeMs: 8_000 };
    let now = T + 60_000;
    now += delay(now, plan);
    expect(now).to.equal(T + FIVE + 8_000);
    now += delay(now, plan);
    expect(now).to.equal(T + FIVE + 25_000);
  });

  it('never asks again sooner than the minimum gap, whatever the plan says', () => {
    const now = T + FIVE + 25_000 + RETRY_STEP_MS - 1_000;
    expect(delay(now)).to.be.at.least(MIN_GAP_MS);
  });

  it('without a plan (a spot-check device) or a usable last reading, keeps the fixed cadence', () => {
    const fixed = nextPollDelay({
      cadence: DEXCOM_CADENCE,
      last: T,
      misses: 0,
      now: T + 40_000,
      jitterMs: 0,
    });
    expect(fixed).to.equal(FIVE + DEXCOM_CADENCE.lagMs - 40_000);
    const bad = nextPollDelay({
      cadence: DEXCOM_CADENCE,
      last: Number.NaN,
      misses: 0,
      now: T,
      jitterMs: 0,
      plan: PLAN,
    });
    expect(bad).to.equal(MINUTE);
  });

  it('backs off to one request every 2–2.5 minutes while the cloud fails; Retry-After wins', () => {
    const error = new CgmError('SERVER', 'HTTP 500');
    expect(failureDelay(1, error, () => 0.5)).to.be.within(48_000, MINUTE);
    expect(failureDelay(2, error, () => 0.5)).to.be.within(96_000, 2 * MINUTE);
    for (const failures of [3, 5, 50]) {
      expect(failureDelay(failures, error, () => 0)).to.equal(0.8 * MAX_BACKOFF_MS);
      expect(failureDelay(failures, error, () => 0.999)).to.be.at.most(MAX_BACKOFF_MS);
    }
    const limited = new CgmError('RATE_LIMITED', '429', { retryAfterMs: 10 * MINUTE });
    expect(failureDelay(3, limited, () => 0)).to.equal(10 * MINUTE);
  });
});

describe('lag model (what a subject’s uploader shows)', () => {
  const model = () =>
    new LagModel({ initialLagMs: 20_000, jitterMs: 4_000, stepMs: RETRY_STEP_MS, budget: READING_BUDGET });

  /**
   * Plays the schedule against an uploader: each reading appears `lag()` ms after its instant; the
   * poller's requests follow `nextPollDelay` with the model's plan, and each new reading is observed.
   */
  function play(lag: () => number, readings: number, seed = 1) {
    const rnd = random(seed);
    const learner = model();
    const freshness: number[] = [];
    let requests = 0;
    let last = T;
    let now = T + 30_000;
    let previousAsk = now;
    for (let n = 1; n <= readings;) {
      const plan = {
        aimMs: learner.aimMs,
        stepMs: RETRY_STEP_MS,
        budget: READING_BUDGET,
        probeMs: learner.probeMs,
      };
      now += nextPollDelay({
        cadence: DEXCOM_CADENCE,
        last,
        misses: 0,
        now,
        jitterMs: Math.round(rnd() * 4_000),
        plan,
      });
      requests += 1;
      const time = last + FIVE;
      const visible = time + lagOf(time);
      if (now >= visible) {
        freshness.push((now - visible) / 1000);
        learner.observe(previousAsk - time, now - time);
        last = time;
        n += 1;
      }
      previousAsk = now;
    }
    return { learner, freshness, requestsPerReading: requests / readings };

    function lagOf(time: number): number {
      let value = lags.get(time);
      if (value === undefined) {
        value = lag();
        lags.set(time, value);
      }
      return value;
    }
  }
  const lags = new Map<number, number>();
  beforeEach(() => lags.clear());

  const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.95)]!;

  it('learns a steady uploader: the first request lands just after its lag, one request per reading', () => {
    const rnd = random(7);
    const { learner, freshness, requestsPerReading } = play(() => 31_000 + (rnd() * 6 - 3) * 1000, 200);
    expect(learner.aimMs).to.be.within(30_000, 36_000);
    expect(p95(freshness.slice(50))).to.be.at.most(15);
    expect(requestsPerReading).to.be.at.most(1.25);
  });

  it('meets an erratic uploader half-way: retries at short steps, fewer than two requests per reading', () => {
    const rnd = random(11);
    const { learner, freshness, requestsPerReading } = play(() => rnd() * 60_000, 240);
    expect(learner.aimMs).to.be.within(15_000, 45_000);
    expect(p95(freshness.slice(50))).to.be.at.most(35);
    expect(requestsPerReading).to.be.at.most(1.8);
    expect(learner.fit.w, 'a wide spread, not one fixed lag').to.be.above(15);
  });

  it('takes misses as lower bounds: an uploader that got slower is followed within a few readings', () => {
    const rnd = random(5);
    // Readings took 20–26 s to appear; from the 80th on (the phone's new battery saver), 52–58 s.
    let count = 0;
    const { learner, freshness, requestsPerReading } = play(() => {
      count += 1;
      return (count <= 80 ? 23_000 : 55_000) + (rnd() * 6 - 3) * 1000;
    }, 200);
    expect(learner.aimMs).to.be.within(52_000, 62_000);
    expect(p95(freshness.slice(100))).to.be.at.most(15);
    expect(requestsPerReading).to.be.at.most(1.25);
  });

  it('probes earlier now and then, so a lag that got shorter is found again', () => {
    const learner = model();
    const probes: number[] = [];
    for (let i = 0; i < 48; i += 1) {
      learner.observe(-280_000, 40_000);
      if (learner.probeMs !== undefined) probes.push(learner.probeMs);
    }
    expect(probes.length).to.be.within(3, 5);
    expect(Math.max(...probes)).to.be.below(learner.aimMs);
  });

  it('ignores intervals that say nothing (seen before it was missed, not a number)', () => {
    const learner = model();
    const aim = learner.aimMs;
    learner.observe(30_000, 20_000);
    learner.observe(undefined, Number.NaN);
    expect(learner.size).to.equal(0);
    expect(learner.aimMs).to.equal(aim);
  });
});
