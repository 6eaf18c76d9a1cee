import { expect } from 'chai';
import { parseFactoryTimestamp, requireFactoryTimestamp } from '../../../src/providers/librelinkup/timestamp';
import { formatLibreTimestamp } from '../../../src/simulator/librelinkup-records';

const iso = (text: string) => parseFactoryTimestamp(text)?.toISOString();

describe('LibreLinkUp FactoryTimestamp', () => {
  it('reads the en-US 12-hour form as UTC, whatever the host time zone', () => {
    expect(iso('12/30/2022 4:47:40 PM')).to.equal('2022-12-30T16:47:40.000Z');
    expect(iso('5/21/2022 1:38:50 PM')).to.equal('2022-05-21T13:38:50.000Z');
    expect(iso('11/9/2024 3:19:00 PM')).to.equal('2024-11-09T15:19:00.000Z');
    expect(iso('3/13/2022 6:53:10 AM')).to.equal('2022-03-13T06:53:10.000Z');
  });

  it('puts 12 AM just after midnight and 12 PM at noon', () => {
    expect(iso('1/1/2025 12:00:00 AM')).to.equal('2025-01-01T00:00:00.000Z');
    expect(iso('1/1/2025 12:59:59 AM')).to.equal('2025-01-01T00:59:59.000Z');
    expect(iso('1/1/2025 12:00:00 PM')).to.equal('2025-01-01T12:00:00.000Z');
    expect(iso('12/31/2024 11:59:59 PM')).to.equal('2024-12-31T23:59:59.000Z');
  });

  it('does not shift across the DST changes of any host zone', () => {
    // The European and US spring-forward hours: a local parse would move or reject these.
    expect(iso('3/30/2025 2:30:00 AM')).to.equal('2025-03-30T02:30:00.000Z');
    expect(iso('3/9/2025 2:30:00 AM')).to.equal('2025-03-09T02:30:00.000Z');
  });

  it('accepts ISO 8601, UTC without a zone', () => {
    expect(iso('2025-06-01T10:11:12Z')).to.equal('2025-06-01T10:11:12.000Z');
    expect(iso('2025-06-01T10:11:12')).to.equal('2025-06-01T10:11:12.000Z');
    expect(iso('2025-06-01T12:11:12.5+02:00')).to.equal('2025-06-01T10:11:12.500Z');
  });

  it('refuses what is not a real instant', () => {
    for (const bad of [
      '',
      '13/1/2025 1:00:00 PM',
      '2/30/2025 1:00:00 PM',
      '1/1/2025 0:10:00 AM',
      '1/1/2025 13:00:00 PM',
      'yesterday',
    ]) {
      expect(parseFactoryTimestamp(bad), bad).to.equal(undefined);
    }
    expect(() => requireFactoryTimestamp('soon', 'graph'))
      .to.throw('unreadable FactoryTimestamp')
      .with.property('code', 'PROTOCOL');
  });

  it('reads back every minute of a year as the simulator writes it', () => {
    const start = Date.UTC(2025, 0, 1, 0, 0, 7);
    for (let t = start; t < start + 366 * 24 * 3600_000; t += 37 * 60_000) {
      expect(parseFactoryTimestamp(formatLibreTimestamp(t))?.getTime()).to.equal(t);
    }
  });
});
