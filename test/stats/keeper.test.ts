// The keeper against a stand-in follower: what it asks the cloud for, and how often it computes.
import { expect } from 'chai';
import { EventEmitter } from 'node:events';
import sinon from 'sinon';
import type { AccountFollower } from '../../src/follow/follower';
import { SubjectState } from '../../src/follow/subject-state';
import { CgmError } from '../../src/model/errors';
import { mgdlToMmol, type GlucoseReading } from '../../src/model/reading';
import { TurnLimiter } from '../../src/follow/turn-limiter';
import { StatisticsKeeper, statisticsKeeper } from '../../src/stats/keeper';

const MINUTE = 60_000;
const T = Date.UTC(2026, 2, 1, 12, 0, 0);

function reading(time: number, mgdl: number): GlucoseReading {
  return {
    provider: 'dexcom',
    subject: 'sam',
    time: new Date(time),
    mgdl,
    mmol: mgdlToMmol(mgdl),
    trend: 'flat',
    arrow: '→',
  };
}

/** What the keeper uses of a follower: events, `history` (which feeds the person's state) and the cadence. */
class FakeFollower extends EventEmitter {
  readonly source = {
    cadence: {
      readingIntervalMs: 5 * MINUTE,
      maxHistoryMinutes: 720,
      latestIntervalMs: MINUTE,
      lagMs: 0,
      continuous: true,
    },
  };
  readonly calls: number[] = [];
  fail: CgmError | undefined;
  constructor(private readonly clock: { now: number }) {
    super();
  }
  history(subject: SubjectState, minutes: number): Promise<GlucoseReading[]> {
    this.calls.push(minutes);
    if (this.fail) return Promise.reject(this.fail);
    // Every 5 minutes of the span asked for, at 100 mg/dL.
    const readings = Array.from({ length: minutes / 5 }, (_, i) =>
      reading(this.clock.now - i * 5 * MINUTE, 100),
    ).reverse();
    subject.recent.addAll(readings);
    return Promise.resolve(readings);
  }
}

function person(continuous = true): SubjectState {
  return new SubjectState({ id: 'sam', name: 'Sam', slug: 'sam', provider: 'dexcom', continuous });
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('StatisticsKeeper', () => {
  let clock: { now: number };
  let follower: FakeFollower;
  let keeper: StatisticsKeeper;

  beforeEach(() => {
    clock = { now: T };
    follower = new FakeFollower(clock);
    keeper = new StatisticsKeeper(follower as unknown as AccountFollower, { now: () => clock.now });
  });
  afterEach(() => keeper.stop());

  it('loads the cloud’s history once, after the first reading (LibreLinkUp: 12 h), then emits the day’s statistics', async () => {
    keeper.start();
    const sam = person();
    const emitted: number[] = [];
    keeper.on('statistics', (_s, stats) => emitted.push(stats.coverage));
    sam.accept(reading(T, 120));
    expect(keeper.fresh(sam)!.coverage).to.equal(0.003); // 1 of 288
    follower.emit('reading', sam, sam.last);
    await settle();
    expect(follower.calls).to.deep.equal([720]);
    expect(emitted).to.deep.equal([0.5]); // 144 of 288 slots
    clock.now += 5 * MINUTE;
    sam.accept(reading(clock.now, 110));
    follower.emit('reading', sam, sam.last);
    await settle();
    expect(follower.calls, 'no second load').to.deep.equal([720]);
  });

  it('with shared turns (a bridge of many people) loads one day per turn, and nothing once stopped', async () => {
    const limiter = new TurnLimiter({ concurrency: 1, perSecond: Infinity });
    const held = await limiter.turn(); // another account's load is under way
    const shared = new StatisticsKeeper(follower as unknown as AccountFollower, {
      now: () => clock.now,
      historyTurns: limiter,
    });
    shared.start();
    const sam = person();
    sam.accept(reading(T, 120));
    follower.emit('reading', sam, sam.last);
    await settle();
    expect(follower.calls, 'waits for its turn').to.deep.equal([]);
    held();
    await settle();
    await settle();
    expect(follower.calls).to.deep.equal([720]);
    expect(limiter.inFlight, 'the turn is given back').to.equal(0);

    const ben = new SubjectState({
      id: 'ben',
      name: 'Ben',
      slug: 'ben',
      provider: 'dexcom',
      continuous: true,
    });
    const again = await limiter.turn();
    ben.accept(reading(T, 100));
    follower.emit('reading', ben, ben.last);
    shared.stop();
    again();
    await settle();
    await settle();
    expect(follower.calls, 'a stopped keeper loads nothing').to.deep.equal([720]);
    expect(limiter.inFlight).to.equal(0);
  });

  it('computes at most every 5 minutes: the same result before, a new one after', () => {
    const sam = person();
    sam.accept(reading(T, 120));
    const first = keeper.fresh(sam);
    clock.now += 4 * MINUTE;
    sam.accept(reading(clock.now, 200));
    expect(keeper.fresh(sam)).to.equal(first);
    clock.now += MINUTE;
    const second = keeper.fresh(sam)!;
    expect(second).to.not.equal(first);
    expect(second.meanMgdl).to.equal(160);
  });

  it('recomputes on its own as the window slides, and emits only a change', () => {
    const timers = sinon.useFakeTimers({ now: T, toFake: ['setInterval', 'clearInterval'] });
    try {
      keeper.start();
      const sam = person();
      sam.accept(reading(T, 120));
      keeper.fresh(sam);
      const seen: (number | null)[] = [];
      keeper.on('statistics', (_s, stats) => seen.push(stats.percentInRange));
      clock.now = T + 24 * 60 * MINUTE + MINUTE; // the only reading has left the window
      timers.tick(MINUTE);
      expect(seen).to.deep.equal([null]);
      clock.now += 5 * MINUTE;
      timers.tick(5 * MINUTE);
      expect(seen, 'nothing changed, nothing emitted').to.deep.equal([null]);
    } finally {
      timers.restore();
    }
  });

  it('on demand (Node-RED): the first call waits for the history, a failing first load rejects with its error', async () => {
    const sam = person();
    const stats = await keeper.statistics(sam);
    expect(stats!.coverage).to.equal(0.5);
    expect(follower.calls).to.deep.equal([720]);
    // Within 5 minutes the cached result, no request.
    clock.now += 2 * MINUTE;
    expect(await keeper.statistics(sam)).to.equal(stats);
    expect(follower.calls).to.have.length(1);
    // Later, with nothing polling the person, the readings since the newest one held are fetched.
    clock.now += 20 * MINUTE;
    await keeper.statistics(sam);
    expect(follower.calls).to.deep.equal([720, 23]);

    const other = new StatisticsKeeper(follower as unknown as AccountFollower, { now: () => clock.now });
    follower.fail = new CgmError('AUTH_INVALID', 'the password was refused');
    let thrown: unknown;
    await other.statistics(person()).catch((error: unknown) => (thrown = error));
    expect(thrown).to.be.instanceOf(CgmError).with.property('code', 'AUTH_INVALID');
  });

  it('a spot-check meter has no statistics; one keeper per follower for on-demand hosts', async () => {
    const meter = person(false);
    meter.accept(reading(T, 120));
    expect(keeper.fresh(meter)).to.equal(undefined);
    expect(await keeper.statistics(meter)).to.equal(undefined);
    const shared = follower as unknown as AccountFollower;
    expect(statisticsKeeper(shared)).to.equal(statisticsKeeper(shared));
  });
});
