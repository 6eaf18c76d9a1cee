import { expect } from 'chai';
import { dexcomLimit, makeReading, mgdlToMmol, mmolToMgdl, sortAndDedupe } from '../../src/model/reading';
import { dexcomTrend, dexcomTrendCode, libreTrend, trendArrow } from '../../src/model/trend';
import { CgmError, toCgmError } from '../../src/model/errors';
import { LIBRE_RANGE, METER_RANGE } from '../../src/model/plausible';

const T = Date.UTC(2026, 0, 5, 12);
const NOW = T + 60_000;

describe('model', () => {
  describe('units', () => {
    it('converts with the one pinned formula (÷18.0156, one decimal)', () => {
      expect(mgdlToMmol(100)).to.equal(5.6);
      expect(mgdlToMmol(70)).to.equal(3.9);
      expect(mgdlToMmol(180)).to.equal(10);
      expect(mgdlToMmol(39)).to.equal(2.2);
      expect(mgdlToMmol(401)).to.equal(22.3);
      expect(mmolToMgdl(3.9)).to.equal(70);
    });
  });

  describe('trend tables', () => {
    it('accepts Dexcom names in any case, with spaces or underscores', () => {
      expect(dexcomTrend('Flat')).to.equal('flat');
      expect(dexcomTrend('fortyfiveup')).to.equal('fortyFiveUp');
      expect(dexcomTrend('Double Down')).to.equal('doubleDown');
      expect(dexcomTrend('NOT_COMPUTABLE')).to.equal('notComputable');
      expect(dexcomTrend('RateOutOfRange')).to.equal('rateOutOfRange');
      expect(dexcomTrend('NonComputable')).to.equal('notComputable');
    });

    it('accepts Dexcom numbers 0–9 and maps unknown input to notComputable', () => {
      const expected = [
        'none',
        'doubleUp',
        'singleUp',
        'fortyFiveUp',
        'flat',
        'fortyFiveDown',
        'singleDown',
        'doubleDown',
        'notComputable',
        'rateOutOfRange',
      ];
      expect(expected.map((_, code) => dexcomTrend(code))).to.deep.equal(expected);
      expect(dexcomTrend('4')).to.equal('flat');
      expect(dexcomTrend(12)).to.equal('notComputable');
      expect(dexcomTrend('Sideways')).to.equal('notComputable');
      expect(dexcomTrend(undefined)).to.equal('notComputable');
      expect(dexcomTrendCode('fortyFiveDown')).to.equal(5);
    });

    it('maps LibreLinkUp TrendArrow 1–5, and 0 or missing to notComputable', () => {
      expect([1, 2, 3, 4, 5].map(libreTrend)).to.deep.equal([
        'singleDown',
        'fortyFiveDown',
        'flat',
        'fortyFiveUp',
        'singleUp',
      ]);
      expect(libreTrend(0)).to.equal('notComputable');
      expect(libreTrend(undefined)).to.equal('notComputable');
      expect(libreTrend(null)).to.equal('notComputable');
    });

    it('gives an arrow for every trend', () => {
      expect(trendArrow('doubleUp')).to.equal('⇈');
      expect(trendArrow('flat')).to.equal('→');
      expect(trendArrow('notComputable')).to.equal('?');
      expect(trendArrow('none')).to.equal('-');
    });
  });

  describe('readings', () => {
    it('derives mmol, arrow and the LOW/HIGH limits', () => {
      const low = makeReading({
        provider: 'dexcom',
        subject: 'a',
        time: new Date(T),
        mgdl: 39,
        trend: 'none',
        limit: dexcomLimit(39),
      });
      expect(low).to.deep.include({ mgdl: 39, mmol: 2.2, arrow: '-', limit: 'low' });
      expect(dexcomLimit(401)).to.equal('high');
      expect(dexcomLimit(120)).to.equal(undefined);
    });

    it('sorts oldest first and keeps one reading per instant', () => {
      const at = (ms: number, mgdl: number) =>
        makeReading({ provider: 'dexcom', subject: 'a', time: new Date(T + ms), mgdl, trend: 'flat' });
      const out = sortAndDedupe([at(3, 103), at(1, 101), at(3, 113), at(2, 102)]);
      expect(out.map((r) => [r.time.getTime() - T, r.mgdl])).to.deep.equal([
        [1, 101],
        [2, 102],
        [3, 113],
      ]);
    });
  });

  describe('reading rules (where a reading enters)', () => {
    const parts = { provider: 'dexcom' as const, subject: 'a', trend: 'flat' as const };
    const refusedField = (make: () => unknown): string => {
      try {
        make();
      } catch (error) {
        expect(error).to.be.instanceOf(CgmError);
        expect((error as CgmError).code).to.equal('PROTOCOL');
        return String((error as CgmError).detail.field);
      }
      throw new Error('expected the reading to be refused');
    };

    it('refuses an instant before 2000, more than a day ahead, or invalid, naming the field', () => {
      const at = (ms: number) => () =>
        makeReading({ ...parts, time: new Date(ms), mgdl: 100 }, { now: NOW, fields: { time: 'WT' } });
      expect(refusedField(at(0))).to.equal('WT');
      expect(refusedField(at(Date.UTC(1999, 11, 31, 23, 59)))).to.equal('WT');
      expect(refusedField(at(99_999_999_999_999))).to.equal('WT');
      expect(refusedField(at(8_640_000_000_000_001))).to.equal('WT');
      expect(refusedField(at(NOW + 24 * 3_600_000 + 1))).to.equal('WT');
      expect(at(Date.UTC(2000, 0, 1))().time.getTime()).to.equal(Date.UTC(2000, 0, 1));
      expect(at(NOW + 23 * 3_600_000)().mgdl).to.equal(100);
    });

    it('refuses 0, negatives, non-finite and absurd values; keeps an integer in 39–401', () => {
      const value = (mgdl: number) => () =>
        makeReading({ ...parts, time: new Date(T), mgdl }, { now: NOW, fields: { mgdl: 'Value' } });
      for (const bad of [0, -5, 0.4, Number.NaN, Infinity, -Infinity, 1e308, 38, 402, 5000]) {
        expect(refusedField(value(bad)), String(bad)).to.equal('Value');
      }
      expect(value(100.4)()).to.deep.include({ mgdl: 100 });
      expect(value(39)()).to.not.have.property('limit');
    });

    it('maps the vendor LOW/HIGH marks and values beyond 39–401 inside the sensor range', () => {
      const make = (mgdl: number, limit?: 'low' | 'high', range = LIBRE_RANGE) =>
        makeReading({ ...parts, time: new Date(T), mgdl, ...(limit ? { limit } : {}) }, { now: NOW, range });
      expect(make(30, 'low')).to.deep.include({ mgdl: 39, limit: 'low' });
      expect(make(600, 'high')).to.deep.include({ mgdl: 401, limit: 'high' });
      expect(make(450)).to.deep.include({ mgdl: 401, limit: 'high' });
      expect(make(25, undefined, METER_RANGE)).to.deep.include({ mgdl: 39, limit: 'low' });
      expect(refusedField(() => make(25))).to.equal('mgdl');
      expect(refusedField(() => make(501))).to.equal('mgdl');
      expect(refusedField(() => make(1e308, 'high'))).to.equal('mgdl');
      expect(refusedField(() => make(0, 'low'))).to.equal('mgdl');
    });
  });

  describe('errors', () => {
    it('keeps code, retryability and a short status', () => {
      const error = new CgmError('AUTH_INVALID', 'rejected', { hint: 'try region ous' });
      expect(error.retryable).to.equal(false);
      expect(error.status.length).to.be.at.most(20);
      expect(new CgmError('NETWORK', 'x').retryable).to.equal(true);
      expect(toCgmError(new Error('boom'))).to.include({ code: 'SERVER', message: 'boom' });
    });
  });
});
