import { expect } from 'chai';
import { MAX_PAGES } from '../../../src/providers/vitadock/constants';
import { readPages } from '../../../src/providers/vitadock/paging';
import { RECORD_SCHEMAS } from '../../../src/providers/vitadock/schemas';
import { recordingLogger } from './helpers';

const meal = (n: number) => ({
  id: `id-${n}`,
  active: true,
  version: 1,
  measurementDate: 1_000 + n,
  updatedDate: 1_000 + n,
  carbohydrates: 40,
});
const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => meal(from + i));

describe('vitadock paging', () => {
  it('steps start by what came back and stops at the first short page', async () => {
    const starts: number[] = [];
    const records = await readPages(
      (start) => {
        starts.push(start);
        return Promise.resolve(range(start, Math.min(100, 250 - start)));
      },
      RECORD_SCHEMAS.glucodockmeals,
      'meals',
      recordingLogger(),
    );
    expect(starts).to.deep.equal([0, 100, 200]);
    expect(records).to.have.length(250);
  });

  it('keeps one record per id when a 1-based server repeats one per page', async () => {
    // start=N returns records N-1 … (1-based): each page repeats the last record of the page before.
    const records = await readPages(
      (start) =>
        Promise.resolve(range(Math.max(0, start - 1), start === 0 ? 100 : Math.min(100, 150 - start + 1))),
      RECORD_SCHEMAS.glucodockmeals,
      'meals',
      recordingLogger(),
    );
    expect(records).to.have.length(150);
    expect(new Set(records.map((r) => r.id)).size).to.equal(150);
  });

  it('stops when a server ignores start and repeats the same full page', async () => {
    let calls = 0;
    const records = await readPages(
      () => {
        calls += 1;
        return Promise.resolve(range(0, 100));
      },
      RECORD_SCHEMAS.glucodockmeals,
      'meals',
      recordingLogger(),
    );
    expect(calls).to.equal(2);
    expect(records).to.have.length(100);
  });

  it('gives up after MAX_PAGES full pages with a warning, and calls a non-array PROTOCOL', async () => {
    const logger = recordingLogger();
    const records = await readPages(
      (start) => Promise.resolve(range(start, 100)),
      RECORD_SCHEMAS.glucodockmeals,
      'meals',
      logger,
    );
    expect(records).to.have.length(MAX_PAGES * 100);
    expect(logger.lines.join('\n')).to.contain(`stopped after ${MAX_PAGES} pages`);
    try {
      await readPages(() => Promise.resolve({ error: 1 }), RECORD_SCHEMAS.glucodockmeals, 'meals', logger);
      expect.fail('expected PROTOCOL');
    } catch (error) {
      expect((error as { code?: string }).code).to.equal('PROTOCOL');
    }
  });
});
