import { expect } from 'chai';
import { classify, deltaIn, deltaPerFiveMinutes } from '../../src/follow/classify';
import type { GlucoseReading, GlucoseUnit } from '../../src/model/reading';
import { reading } from '../mqtt/fixtures';

const glucoseDelta = (r: GlucoseReading, p: GlucoseReading | undefined, unit: GlucoseUnit) =>
  deltaIn(deltaPerFiveMinutes(r, p), unit);
const LIMITS = { urgentLow: 55, low: 70, high: 180 };

describe('classify and delta (the one meaning of low, high and delta)', () => {
  it('flags at or beyond each limit, in mg/dL', () => {
    expect(classify({ mgdl: 55 }, LIMITS)).to.deep.equal({ urgentLow: true, low: true, high: false });
    expect(classify({ mgdl: 56 }, LIMITS)).to.deep.equal({ urgentLow: false, low: true, high: false });
    expect(classify({ mgdl: 71 }, LIMITS)).to.deep.equal({ urgentLow: false, low: false, high: false });
    expect(classify({ mgdl: 180 }, LIMITS)).to.deep.equal({ urgentLow: false, low: false, high: true });
  });

  it("takes the sensor's LOW as urgent low and its HIGH as high, whatever the limits", () => {
    const wide = { urgentLow: 40, low: 41, high: 400 };
    expect(classify({ mgdl: 39, limit: 'low' }, wide)).to.deep.equal({
      urgentLow: true,
      low: true,
      high: false,
    });
    expect(classify({ mgdl: 401, limit: 'high' }, wide)).to.deep.equal({
      urgentLow: false,
      low: false,
      high: true,
    });
  });

  describe('delta per 5 minutes', () => {
    it('scales the change to 5 minutes (LibreLinkUp reads every minute)', () => {
      expect(glucoseDelta(reading('a', 1, 103), reading('a', 0, 100), 'mgdl')).to.equal(15);
      expect(glucoseDelta(reading('a', 10, 90), reading('a', 0, 100), 'mgdl')).to.equal(-5);
    });

    it('is null without a previous reading, for a gap over 15 minutes or a non-increasing time', () => {
      expect(glucoseDelta(reading('a', 0, 100), undefined, 'mgdl')).to.equal(null);
      expect(glucoseDelta(reading('a', 16, 100), reading('a', 0, 90), 'mgdl')).to.equal(null);
      expect(glucoseDelta(reading('a', 0, 100), reading('a', 0, 90), 'mgdl')).to.equal(null);
      expect(glucoseDelta(reading('a', 15, 100), reading('a', 0, 90), 'mgdl')).to.equal(3);
    });

    it('is null from or to a LOW/HIGH placeholder', () => {
      expect(glucoseDelta(reading('a', 5, 39, 'none', 'low'), reading('a', 0, 50), 'mgdl')).to.equal(null);
      expect(glucoseDelta(reading('a', 5, 300), reading('a', 0, 401, 'none', 'high'), 'mgdl')).to.equal(null);
    });

    it('never writes -0', () => {
      // -1 mg/dL over 12.5 minutes is -0.4 per 5 minutes: rounds to -0 in both units.
      for (const unit of ['mgdl', 'mmol'] as const) {
        const delta = glucoseDelta(reading('a', 12.5, 100), reading('a', 0, 101), unit);
        expect(Object.is(delta, 0), unit).to.equal(true);
      }
    });
  });
});
