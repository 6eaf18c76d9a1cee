import { expect } from 'chai';
import {
  formatDexcomDate,
  formatDexcomDateWithOffset,
  parseDexcomDate,
} from '../../../src/providers/dexcom/timestamp';
import { dexcomLimit } from '../../../src/model/reading';
import { dexcomTrendName } from '../../../src/providers/dexcom/constants';

describe('Dexcom timestamps and tables', () => {
  it('parses Date(ms) with or without slashes and keeps the offset aside, unapplied', () => {
    expect(parseDexcomDate('Date(1745081013817)')).to.deep.equal({ ms: 1745081013817 });
    expect(parseDexcomDate('/Date(1426769941000)/')).to.deep.equal({ ms: 1426769941000 });
    expect(parseDexcomDate('Date(1745081013817-0400)')).to.deep.equal({
      ms: 1745081013817,
      offsetMinutes: -240,
    });
    expect(parseDexcomDate('/Date(1587165223000+0000)/')).to.deep.equal({
      ms: 1587165223000,
      offsetMinutes: 0,
    });
    expect(parseDexcomDate('/Date(1426780716000+0530)/')!.offsetMinutes).to.equal(330);
    expect(parseDexcomDate('Date(-1000)')).to.deep.equal({ ms: -1000 });
  });

  it('rejects what is not a Dexcom date', () => {
    for (const text of ['2025-01-01T00:00:00Z', 'Date()', 'Date(12-04)', 'Date(1x)', '', 'Date(1+04000)']) {
      expect(parseDexcomDate(text), text).to.equal(undefined);
    }
  });

  it('formats upload dates floored to the second and DT with an offset', () => {
    expect(formatDexcomDate(1426783106789)).to.equal('/Date(1426783106000)/');
    expect(formatDexcomDateWithOffset(1000, -240)).to.equal('Date(1000-0400)');
    expect(formatDexcomDateWithOffset(1000, 330, true)).to.equal('/Date(1000+0530)/');
  });

  it('names trends the Dexcom way and flags 39/401', () => {
    expect(dexcomTrendName('fortyFiveDown')).to.equal('FortyFiveDown');
    expect(dexcomTrendName('none')).to.equal('None');
    expect(dexcomLimit(39)).to.equal('low');
    expect(dexcomLimit(401)).to.equal('high');
    expect(dexcomLimit(120)).to.equal(undefined);
  });
});
