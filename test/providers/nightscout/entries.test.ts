import { expect } from 'chai';
import { makeReading } from '../../../src/model/reading';
import type { Trend } from '../../../src/model/trend';
import { uploadProblem, v1Document, v3Document } from '../../../src/providers/nightscout/documents';
import {
  entryTrend,
  judgeEntry,
  medianSpacing,
  onePerMeasurement,
  type Candidate,
} from '../../../src/providers/nightscout/entries';
import { entryIdentifier, uuidV5 } from '../../../src/providers/nightscout/identifier';

const NOW = Date.UTC(2026, 2, 1, 12, 0);
const MINUTE = 60_000;

function reading(time: number, mgdl = 120) {
  return makeReading({ provider: 'nightscout', subject: 's', time: new Date(time), mgdl, trend: 'flat' });
}

function candidate(time: number, device: string, uploadedAt: number, mgdl = 120): Candidate {
  return { reading: reading(time, mgdl), device, uploadedAt };
}

describe('Nightscout entries', () => {
  describe('trend', () => {
    const table: [string | null | undefined, number | null | undefined, Trend][] = [
      ['DoubleUp', undefined, 'doubleUp'],
      ['SingleUp', undefined, 'singleUp'],
      ['FortyFiveUp', undefined, 'fortyFiveUp'],
      ['Flat', undefined, 'flat'],
      ['FortyFiveDown', undefined, 'fortyFiveDown'],
      ['SingleDown', undefined, 'singleDown'],
      ['DoubleDown', undefined, 'doubleDown'],
      ['NOT COMPUTABLE', undefined, 'notComputable'],
      ['RATE OUT OF RANGE', undefined, 'rateOutOfRange'],
      ['NONE', undefined, 'none'],
      ['flat', undefined, 'flat'],
      ['NOT_COMPUTABLE', undefined, 'notComputable'],
      [undefined, 0, 'none'],
      [undefined, 1, 'doubleUp'],
      [null, 2, 'singleUp'],
      [undefined, 3, 'fortyFiveUp'],
      [undefined, 4, 'flat'],
      ['', 5, 'fortyFiveDown'],
      [undefined, 6, 'singleDown'],
      [undefined, 7, 'doubleDown'],
      [undefined, 8, 'notComputable'],
      [undefined, 9, 'rateOutOfRange'],
      // The name wins over the number; an unknown name falls back to the number.
      ['SingleDown', 1, 'singleDown'],
      ['Sideways', 4, 'flat'],
      // Neither sent: no trend; something unreadable: not computable.
      [undefined, undefined, 'none'],
      [null, null, 'none'],
      ['Sideways', undefined, 'notComputable'],
      [undefined, 12, 'notComputable'],
    ];
    for (const [direction, trend, expected] of table) {
      it(`direction ${JSON.stringify(direction)}, trend ${JSON.stringify(trend)} → ${expected}`, () => {
        expect(entryTrend(direction, trend)).to.equal(expected);
      });
    }
  });

  describe('judging an entry', () => {
    const judge = (entry: Record<string, unknown>) => judgeEntry(entry, 'site', NOW);
    const base = { type: 'sgv', date: NOW - MINUTE, sgv: 120, direction: 'Flat', device: 'xDrip' };

    it('accepts an sgv entry: mg/dL from sgv, the instant from date (dateString ignored)', () => {
      const verdict = judge({ ...base, dateString: '2001-01-01T00:00:00' });
      expect(verdict.kind).to.equal('reading');
      if (verdict.kind !== 'reading') return;
      expect(verdict.candidate.reading.time.getTime()).to.equal(NOW - MINUTE);
      expect(verdict.candidate.reading.mgdl).to.equal(120);
      expect(verdict.candidate.reading.mmol).to.equal(6.7);
      expect(verdict.candidate.device).to.equal('xDrip');
    });

    it('reads numbers written as strings, and untyped entries that carry sgv', () => {
      const verdict = judge({ date: String(NOW - MINUTE), sgv: '98' });
      expect(verdict.kind).to.equal('reading');
      if (verdict.kind === 'reading') expect(verdict.candidate.reading.mgdl).to.equal(98);
    });

    it('ignores meter, calibration and other entries silently', () => {
      expect(judge({ type: 'mbg', mbg: 110, date: NOW }).kind).to.equal('other');
      expect(judge({ type: 'cal', slope: 1, date: NOW }).kind).to.equal('other');
      expect(judge({ type: 'sensor', date: 'yesterday' }).kind).to.equal('other');
    });

    it('marks the sensor LOW and HIGH (39 / 401 and beyond)', () => {
      const low = judge({ ...base, sgv: 39 });
      const lower = judge({ ...base, sgv: 20 });
      const high = judge({ ...base, sgv: 401 });
      const higher = judge({ ...base, sgv: 450 });
      for (const [verdict, limit, mgdl] of [
        [low, 'low', 39],
        [lower, 'low', 39],
        [high, 'high', 401],
        [higher, 'high', 401],
      ] as const) {
        expect(verdict.kind).to.equal('reading');
        if (verdict.kind !== 'reading') continue;
        expect(verdict.candidate.reading.limit).to.equal(limit);
        expect(verdict.candidate.reading.mgdl).to.equal(mgdl);
      }
      const normal = judge({ ...base, sgv: 40 });
      expect(normal.kind === 'reading' && normal.candidate.reading.limit).to.equal(undefined);
    });

    const refused: [string, Record<string, unknown>, RegExp][] = [
      ['an instant in 1970', { ...base, date: 0 }, /before 2000/],
      ['an instant in seconds, not ms', { ...base, date: Math.floor(NOW / 1000) }, /before 2000/],
      ['an instant more than a day ahead', { ...base, date: NOW + 25 * 60 * MINUTE }, /a day ahead/],
      ['Dexcom error code 5 ("sensor not calibrated")', { ...base, sgv: 5 }, /sgv 5 is not a glucose value/],
      ['zero', { ...base, sgv: 0 }, /sgv 0/],
      ['a negative value', { ...base, sgv: -5 }, /sgv -5/],
      ['1e308', { ...base, sgv: 1e308 }, /not a glucose value/],
      ['no sgv', { type: 'sgv', date: NOW }, /sgv is missing/],
      ['an sgv that is not a number', { ...base, sgv: 'HIGH' }, /^sgv: /],
      ['a date that is not a number', { ...base, date: '2026-03-01T11:59:00Z' }, /^date: /],
    ];
    for (const [what, entry, reason] of refused) {
      it(`refuses ${what}`, () => {
        const verdict = judge(entry);
        expect(verdict.kind).to.equal('refused');
        if (verdict.kind === 'refused') expect(verdict.reason).to.match(reason);
      });
    }

    it('accepts an instant up to a day ahead of the host clock', () => {
      expect(judge({ ...base, date: NOW + 23 * 60 * MINUTE }).kind).to.equal('reading');
    });
  });

  describe('one reading per measurement', () => {
    it('keeps the newest upload at an instant', () => {
      const out = onePerMeasurement([
        candidate(NOW, 'phone', NOW + 10_000, 120),
        candidate(NOW, 'watch', NOW + 40_000, 122),
      ]);
      expect(out.map((r) => r.mgdl)).to.deep.equal([122]);
    });

    it('joins copies of different devices a few seconds apart, never two readings of one device', () => {
      const out = onePerMeasurement([
        candidate(NOW, 'phone', NOW + 10_000, 120),
        candidate(NOW + 3_000, 'watch', NOW + 40_000, 122),
        candidate(NOW + 60_000, 'phone', NOW + 70_000, 125),
        candidate(NOW + 20_000, 'phone', NOW + 25_000, 121),
      ]);
      expect(out.map((r) => [r.time.getTime() - NOW, r.mgdl])).to.deep.equal([
        [3_000, 122],
        [20_000, 121],
        [60_000, 125],
      ]);
    });

    it('keeps an instant already handed out for a later copy', () => {
      const out = onePerMeasurement(
        [candidate(NOW, 'phone', NOW + 10_000, 120), candidate(NOW + 3_000, 'watch', NOW + 40_000, 122)],
        new Set([NOW]),
      );
      expect(out.map((r) => [r.time.getTime(), r.mgdl])).to.deep.equal([[NOW, 122]]);
    });

    it('chooses the same copy whatever order the site answers in', () => {
      const a = candidate(NOW, 'b-device', -1, 100);
      const b = candidate(NOW, 'a-device', -1, 101);
      expect(onePerMeasurement([a, b])[0]?.mgdl).to.equal(onePerMeasurement([b, a])[0]?.mgdl);
    });
  });

  describe('spacing', () => {
    it('is the median step, gaps over 15 minutes left out, undefined with too little to judge', () => {
      const every = (step: number, n: number, from = NOW) =>
        Array.from({ length: n }, (_, i) => reading(from + i * step));
      expect(medianSpacing(every(MINUTE, 30))).to.equal(MINUTE);
      expect(medianSpacing(every(5 * MINUTE, 12))).to.equal(5 * MINUTE);
      const withGap = [...every(5 * MINUTE, 6), ...every(5 * MINUTE, 6, NOW + 3 * 3600_000)];
      expect(medianSpacing(withGap)).to.equal(5 * MINUTE);
      expect(medianSpacing(every(5 * MINUTE, 3))).to.equal(undefined);
    });
  });

  describe('uploads', () => {
    it('computes v3 identifiers as RFC 4122 UUID v5 (the server derives the same one)', () => {
      // The RFC's own example: DNS namespace, "www.example.com".
      const dns = Buffer.from('6ba7b8109dad11d180b400c04fd430c8', 'hex');
      expect(uuidV5('www.example.com', dns)).to.equal('2ed6657d-e927-568b-95e1-2665a8aea6a2');
      const id = entryIdentifier('glucobridge-dexcom', NOW);
      expect(id).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(entryIdentifier('glucobridge-dexcom', NOW)).to.equal(id);
      expect(entryIdentifier('glucobridge-librelinkup', NOW)).to.not.equal(id);
    });

    it('writes v1 and v3 documents with a device, direction and trend', () => {
      const r = makeReading({
        provider: 'dexcom',
        subject: 'x',
        time: new Date(NOW),
        mgdl: 39,
        trend: 'notComputable',
        limit: 'low',
      });
      expect(v1Document(r, 'glucobridge-dexcom')).to.deep.equal({
        type: 'sgv',
        sgv: 39,
        date: NOW,
        dateString: new Date(NOW).toISOString(),
        direction: 'NOT COMPUTABLE',
        trend: 8,
        device: 'glucobridge-dexcom',
      });
      const v3 = v3Document(r, 'glucobridge-dexcom');
      expect(v3).to.include({ app: 'glucobridge', date: NOW, device: 'glucobridge-dexcom', type: 'sgv' });
      expect(v3.identifier).to.equal(entryIdentifier('glucobridge-dexcom', NOW));
      expect(v3.utcOffset).to.equal(-new Date(NOW).getTimezoneOffset());
      expect(v3).not.to.have.property('dateString');
    });

    it('refuses impossible readings given to upload', () => {
      const ok = reading(NOW - MINUTE);
      expect(uploadProblem(ok, NOW)).to.equal(undefined);
      expect(uploadProblem({ ...ok, time: new Date(0) }, NOW)).to.match(/before 2000/);
      expect(uploadProblem({ ...ok, time: new Date(NaN) }, NOW)).to.match(/invalid/);
      expect(uploadProblem({ ...ok, time: new Date(NOW + 2 * 86_400_000) }, NOW)).to.match(/ahead/);
      expect(uploadProblem({ ...ok, mgdl: 1e308 }, NOW)).to.match(/outside/);
      expect(uploadProblem({ ...ok, mgdl: 12.5 }, NOW)).to.match(/outside/);
    });
  });
});
