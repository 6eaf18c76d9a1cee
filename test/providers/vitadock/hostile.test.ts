// Issue 17 against the VitaDock client: impossible glucose records refused where they enter, a broken
// record costing only itself, a page far too long, and a client closed while a request hangs.
import { expect } from 'chai';
import { HttpTransport } from '../../../src/http/transport';
import { CgmError } from '../../../src/model/errors';
import { demoConfig, makeClient, recordingLogger, rejection, startVitaDock, type Harness } from './helpers';

const MINUTE = 60_000;

describe('VitaDock client: hostile answers (issue 17)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startVitaDock({ seed: 'hostile-test' });
  });
  afterEach(async () => {
    await h.close();
  });

  const glucose = (id: string, ms: number, bloodGlucose: unknown) => ({
    id,
    active: true,
    version: 1,
    measurementDate: ms,
    updatedDate: ms,
    bloodGlucose,
    mealStatus: 0,
  });
  const page = (records: unknown[]) =>
    h.sim.faults.add({
      kind: 'answer',
      provider: 'vitadock',
      path: '/data/glucodockglucoses',
      response: { status: 200, body: records },
    });

  it('drops glucose records with an impossible instant or value, one PROTOCOL line each; the rest count', async () => {
    const logger = recordingLogger();
    const client = makeClient(demoConfig(h.server, { name: 'Sam' }), { logger });
    const now = Math.floor(Date.now() / MINUTE) * MINUTE;
    page([
      glucose('a', now - 30 * MINUTE, 110),
      glucose('b', Date.UTC(2100, 0, 1), 120),
      glucose('c', now - 20 * MINUTE, 0),
      glucose('d', now - 15 * MINUTE, 25), // a meter reads 25: LOW
      glucose('e', 0, 100),
      glucose('f', now - 10 * MINUTE, 5000),
      { id: 'g', active: true, measurementDate: now - 5 * MINUTE },
    ]);
    const readings = await client.history({ minutes: 60 });
    expect(readings.map((r) => [r.time.getTime(), r.mgdl, r.limit])).to.deep.equal([
      [now - 30 * MINUTE, 110, undefined],
      [now - 15 * MINUTE, 39, 'low'],
    ]);
    const refused = logger.lines.filter((l) => l.startsWith('PROTOCOL'));
    expect(refused.join('\n')).to.include('measurementDate').and.include('bloodGlucose');
    // The record without its fields fails the schema (one line); of the four impossible ones three are
    // named and the fourth counted in one more line.
    expect(refused).to.have.length(5);
    expect(refused[0]).to.include('record 6 refused: updatedDate');
    expect(refused[4]).to.include('1 more records refused');
  });

  it('refuses a page far longer than asked for before reading it', async () => {
    const client = makeClient(demoConfig(h.server));
    page(Array.from({ length: 5_000 }, (_, i) => glucose(`x${i}`, Date.now() - i * MINUTE, 100)));
    const error = await rejection(client.history({ minutes: 60 }));
    expect(error).to.be.instanceOf(CgmError).and.include({ code: 'PROTOCOL' });
    expect(error.message).to.include('more than the 1000');
  });

  it('failure 4: close() while a request hangs settles it at once; later calls reject with a CgmError', async () => {
    const client = makeClient(demoConfig(h.server), { transport: new HttpTransport({ timeoutMs: 60_000 }) });
    h.sim.faults.add({ kind: 'timeout', provider: 'vitadock', path: '/data/glucodockglucoses' });
    const reading = client.history({ minutes: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await client.close();
    expect(Date.now() - started).to.be.below(500);
    const error = await rejection(reading);
    expect(error).to.be.instanceOf(CgmError).and.include({ code: 'CONFIG' });
    expect(await rejection(client.latest())).to.be.instanceOf(CgmError);
  });
});
