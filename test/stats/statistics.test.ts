// The consensus metrics against values worked out by hand on fixed traces (see each comment).
import { expect } from 'chai';
import type { GlucoseReading } from '../../src/model/reading';
import { mgdlToMmol } from '../../src/model/reading';
import { ReadingHistory } from '../../src/stats/history';
import { computeStatistics, STATISTICS_FIELDS } from '../../src/stats/statistics';

const MINUTE = 60_000;
const T = Date.UTC(2026, 2, 1, 12, 0, 0);
const FIVE = 5 * MINUTE;

function at(minutesBefore: number, mgdl: number, limit?: 'low' | 'high'): GlucoseReading {
  return {
    provider: 'dexcom',
    subject: 'sam',
    time: new Date(T - minutesBefore * MINUTE),
    mgdl,
    mmol: mgdlToMmol(mgdl),
    trend: 'flat',
    arrow: '→',
    ...(limit ? { limit } : {}),
  };
}

describe('statistics (consensus metrics over the last 24 h)', () => {
  it('ten readings across every band: hand-computed percentages, mean, SD, CV and coverage', () => {
    // 50 65 | 70 100 150 180 | 181 200 250 | 260, every 5 min up to now.
    // < 54: 50 (1); < 70: 50, 65 (2); 70–180: 4; > 180: 181, 200, 250, 260 (4); > 250: 260 (1, 250 is not above).
    // mean = 1506 / 10 = 150.6; squared deviations add up to 52582.4; / 9 = 5842.49; sd = 76.436;
    // cv = 76.436 / 150.6 = 50.75 %; coverage = 10 of 288 slots = 0.0347.
    const values = [260, 250, 200, 181, 180, 150, 100, 70, 65, 50];
    const readings = values.map((mgdl, i) => at(i * 5, mgdl)).reverse();
    const stats = computeStatistics(readings, { now: T, intervalMs: FIVE });
    expect(stats).to.deep.equal({
      percentInRange: 40,
      percentBelow70: 20,
      percentBelow54: 10,
      percentAbove180: 40,
      percentAbove250: 10,
      meanMgdl: 150.6,
      sdMgdl: 76.4,
      cv: 50.8,
      coverage: 0.035,
      from: new Date(T - 24 * 60 * MINUTE).toISOString(),
      to: new Date(T).toISOString(),
    });
    expect(Object.keys(stats)).to.deep.equal([...STATISTICS_FIELDS]);
  });

  it('LOW/HIGH placeholders count as below 54 / above 250 and stay out of the mean; gaps, duplicates and the window edges', () => {
    const readings = [
      at(24 * 60 + 5, 45), // before the window: left out
      at(24 * 60, 45), // exactly at its start (excluded): left out
      at(60, 150), // after a 35-minute gap
      at(25, 100),
      at(20, 401, 'high'), // HIGH: above 180 and 250, not in the mean
      at(15, 39, 'low'), // LOW: below 70 and 54, not in the mean
      at(10, 80),
      at(1, 300), // same 5-minute slot as the reading at now: the newer one counts
      at(0, 120),
      at(-1, 400), // after now: left out
    ];
    // Counted: 150 100 HIGH LOW 80 120 (6). In range 4/6 = 66.7 %; each of the others 1/6 = 16.7 %.
    // Mean of 150 100 80 120 = 112.5; deviations 37.5 -12.5 -32.5 7.5, squares add up to 2675;
    // / 3 = 891.67; sd = 29.861; cv = 26.54 %; coverage 6 / 288 = 0.0208.
    const stats = computeStatistics(readings, { now: T, intervalMs: FIVE });
    expect(stats).to.include({
      percentInRange: 66.7,
      percentBelow70: 16.7,
      percentBelow54: 16.7,
      percentAbove180: 16.7,
      percentAbove250: 16.7,
      meanMgdl: 112.5,
      sdMgdl: 29.9,
      cv: 26.5,
      coverage: 0.021,
    });
  });

  it('a full day every 5 minutes has coverage 1; minute-by-minute values count once per 5-minute slot (the newest)', () => {
    const steady = Array.from({ length: 288 }, (_, i) => at(i * 5, 100));
    expect(computeStatistics(steady, { now: T, intervalMs: FIVE })).to.include({
      coverage: 1,
      percentInRange: 100,
      meanMgdl: 100,
      sdMgdl: 0,
      cv: 0,
    });
    // LibreLinkUp's latest value every minute: 1440 readings. The newest of each slot is the one on
    // the 5-minute mark (200); the four older ones (100) do not count, so everything is above 180.
    const minutes = Array.from({ length: 1440 }, (_, m) => at(m, m % 5 === 0 ? 200 : 100));
    expect(computeStatistics(minutes, { now: T, intervalMs: FIVE })).to.include({
      coverage: 1,
      percentAbove180: 100,
      percentInRange: 0,
      meanMgdl: 200,
    });
    // Half a day (LibreLinkUp's 12 h history) is half the expected readings.
    const half = Array.from({ length: 144 }, (_, i) => at(i * 5, 100));
    expect(computeStatistics(half, { now: T, intervalMs: FIVE }).coverage).to.equal(0.5);
  });

  it('no reading: nulls and coverage 0; one reading: a mean but no SD or CV', () => {
    expect(computeStatistics([], { now: T, intervalMs: FIVE })).to.include({
      percentInRange: null,
      percentBelow70: null,
      meanMgdl: null,
      sdMgdl: null,
      cv: null,
      coverage: 0,
    });
    expect(computeStatistics([at(3, 90)], { now: T, intervalMs: FIVE })).to.include({
      percentInRange: 100,
      meanMgdl: 90,
      sdMgdl: null,
      cv: null,
    });
    // Only placeholders: percentages, but no mean.
    expect(computeStatistics([at(0, 39, 'low')], { now: T, intervalMs: FIVE })).to.include({
      percentBelow54: 100,
      percentInRange: 0,
      meanMgdl: null,
    });
  });
});

describe('ReadingHistory (a person’s last day of readings)', () => {
  it('keeps one reading per instant, oldest first, whatever order they come in', () => {
    const history = new ReadingHistory();
    history.addAll([at(0, 120), at(10, 100), at(5, 110), at(10, 101)]);
    expect(history.readings.map((r) => r.mgdl)).to.deep.equal([101, 110, 120]);
    expect(history.newest?.mgdl).to.equal(120);
    expect(history.since(T - 5 * MINUTE).map((r) => r.mgdl)).to.deep.equal([110, 120]);
  });

  it('keeps what the statistics and the chart need: instant, mg/dL and the LOW/HIGH placeholders', () => {
    const history = new ReadingHistory();
    history.addAll([at(10, 39, 'low'), at(5, 401, 'high'), at(0, 180)]);
    expect(history.readings).to.deep.equal([
      { time: new Date(T - 10 * MINUTE), mgdl: 39, limit: 'low' },
      { time: new Date(T - 5 * MINUTE), mgdl: 401, limit: 'high' },
      { time: new Date(T), mgdl: 180 },
    ]);
    expect(history.newestTime).to.equal(T);
    expect(computeStatistics(history.readings, { now: T, intervalMs: FIVE })).to.include({
      percentBelow54: 33.3,
      percentAbove250: 33.3,
      meanMgdl: 180,
    });
  });

  it('is bounded by time before the newest reading and by count', () => {
    const history = new ReadingHistory(60 * MINUTE, 1000);
    history.addAll(Array.from({ length: 30 }, (_, i) => at(i * 5, 100 + i)).reverse());
    // 60 min before the newest: 13 readings (0, 5, … 60 min before now).
    expect(history.size).to.equal(13);
    expect(history.readings[0]!.time.getTime()).to.equal(T - 60 * MINUTE);
    const small = new ReadingHistory(24 * 60 * MINUTE, 5);
    small.addAll(Array.from({ length: 10 }, (_, i) => at(i, 100)).reverse());
    expect(small.size).to.equal(5);
    expect(small.readings[0]!.time.getTime()).to.equal(T - 4 * MINUTE);
  });
});
