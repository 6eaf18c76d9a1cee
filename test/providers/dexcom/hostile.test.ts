// Issue 17 against the Dexcom client: impossible readings refused where they enter, an answer far too
// big refused while it arrives, a client closed while a request hangs, no username in a message.
import { expect } from 'chai';
import { HttpTransport } from '../../../src/http/transport';
import { CgmError } from '../../../src/model/errors';
import { formatDexcomDateWithOffset } from '../../../src/providers/dexcom/timestamp';
import { MemoryLogger } from '../librelinkup/helpers';
import { US, rejection, startSim, type SimRig } from './helpers';

const READ = 'ReadPublisherLatestGlucoseValues';
const MINUTE = 60_000;

/** A read answer as Dexcom writes it (newest first); `WT` may be given raw. */
function answer(records: { wt?: string; ms?: number; value: unknown }[]): string {
  return JSON.stringify(
    records.map((r) => {
      const wt = r.wt ?? `Date(${r.ms})`;
      const dt = r.ms === undefined ? wt : formatDexcomDateWithOffset(r.ms, 60);
      return { WT: wt, ST: wt, DT: dt, Value: r.value, Trend: 'Flat' };
    }),
  ).replace('"__1e308__"', '1e308');
}

describe('Dexcom client: hostile answers (issue 17)', () => {
  let rig: SimRig;
  let logger: MemoryLogger;
  beforeEach(async () => {
    rig = await startSim();
    logger = new MemoryLogger();
  });
  afterEach(async () => {
    await rig.close();
  });

  const client = () => rig.client({}, { logger, transport: new HttpTransport({ timeoutMs: 2_000 }) });
  const serveRead = (body: string, times = 1) =>
    rig.sim.faults.add({
      kind: 'answer',
      provider: 'dexcom',
      path: READ,
      times,
      response: { status: 200, headers: { 'Content-Type': 'application/json' }, body },
    });
  const protocolLines = () => logger.lines.filter((l) => l.startsWith('warn PROTOCOL'));

  it('failure 1: a reading in year 5138 or an Invalid Date is dropped with one PROTOCOL line; good ones still come out', async () => {
    const c = client();
    const good = Math.floor(Date.now() / MINUTE) * MINUTE - 5 * MINUTE;
    for (const wt of ['Date(99999999999999)', 'Date(8640000000000001)']) {
      logger.lines.length = 0;
      serveRead(
        answer([
          { wt, value: 100 },
          { ms: good, value: 123 },
        ]),
      );
      const history = await c.history({ minutes: 60 });
      expect(history.map((r) => [r.time.getTime(), r.mgdl])).to.deep.equal([[good, 123]]);
      expect(protocolLines(), wt).to.have.length(1);
      expect(protocolLines()[0]).to.include('WT').and.include('refused');
    }
    // Later answers from the cloud itself: readings keep coming, the newest is now, not in 5138.
    const latest = await c.latest();
    expect(latest).to.not.equal(null);
    expect(latest!.time.getTime()).to.be.at.most(Date.now());
    expect(Date.now() - latest!.time.getTime()).to.be.below(10 * MINUTE);
    serveRead(answer([{ wt: 'Date(99999999999999)', value: 100 }]));
    expect(await c.latest()).to.equal(null);
  });

  it('failure 2: values 0, −5 and 1e308 and instants in 1970 or year 1 are refused, naming the field', async () => {
    const c = client();
    const now = Date.now();
    const cases: [string, string][] = [
      [answer([{ ms: now - MINUTE, value: 0 }]), 'Value'],
      [answer([{ ms: now - MINUTE, value: -5 }]), 'Value'],
      [answer([{ ms: now - MINUTE, value: '__1e308__' }]), 'Value'],
      [answer([{ ms: now - MINUTE, value: 402 }]), 'Value'],
      [answer([{ wt: 'Date(0)', value: 100 }]), 'WT'],
      [answer([{ wt: 'Date(-62135596800000)', value: 100 }]), 'WT'], // 0001-01-01
    ];
    for (const [body, field] of cases) {
      logger.lines.length = 0;
      serveRead(body);
      expect(await c.history({ minutes: 60 }), body).to.deep.equal([]);
      expect(protocolLines(), body).to.have.length(1);
      expect(protocolLines()[0], body).to.include(`refused: ${field} `);
    }
  });

  it('keeps LOW (39) and HIGH (401) as placeholders with their limit', async () => {
    const now = Math.floor(Date.now() / MINUTE) * MINUTE;
    serveRead(
      answer([
        { ms: now - MINUTE, value: 401 },
        { ms: now - 6 * MINUTE, value: 39 },
      ]),
    );
    const history = await client().history({ minutes: 60 });
    expect(history.map((r) => [r.mgdl, r.limit])).to.deep.equal([
      [39, 'low'],
      [401, 'high'],
    ]);
  });

  it('failure 3: a 20 MB answer is refused as PROTOCOL while it arrives, without the memory it would take', async () => {
    const c = client();
    await c.login();
    const body = `[${Array.from({ length: 2_600_000 }, () => '{"V":1}').join(',')}]`;
    serveRead(body);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const error = await rejection(c.history({ minutes: 1440 }));
    const grown = (process.memoryUsage().rss - before) / 1024 / 1024;
    expect(error).to.be.instanceOf(CgmError).and.include({ code: 'PROTOCOL' });
    expect(error.message).to.match(/larger than \d+ bytes/);
    // Generous: the unbounded client added 1.5 GB for this answer.
    expect(grown).to.be.below(300);
    // Just under the cap but far more records than a real answer: refused before any is looked at.
    serveRead(`[${Array.from({ length: 100_000 }, () => '{"V":1}').join(',')}]`);
    const many = await rejection(c.history({ minutes: 1440 }));
    expect(many.message).to.include('more than the 576 a real answer has');
  });

  it('failure 4: close() while a request hangs settles it at once; later calls reject with a CgmError', async () => {
    const c = rig.client({}, { transport: new HttpTransport({ timeoutMs: 60_000 }) });
    await c.login();
    rig.sim.faults.add({ kind: 'timeout', provider: 'dexcom', path: READ });
    const reading = c.history({ minutes: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await c.close();
    const error = await rejection(reading);
    expect(Date.now() - started).to.be.below(500);
    expect(error).to.be.instanceOf(CgmError).and.include({ code: 'CONFIG' });
    expect(error.message).to.include('closed');
    const later = await rejection(c.latest());
    expect(later).to.be.instanceOf(CgmError).and.include({ code: 'CONFIG' });
  });

  it('failure 4: close() during a hanging login settles it at once, and sends nothing more', async () => {
    const c = rig.client({}, { transport: new HttpTransport({ timeoutMs: 60_000 }) });
    rig.sim.faults.add({ kind: 'timeout', provider: 'dexcom', path: 'AuthenticatePublisherAccount' });
    const login = c.login();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await c.close();
    expect(await rejection(login)).to.be.instanceOf(CgmError);
    expect(Date.now() - started).to.be.below(500);
    expect(rig.sim.requests('LoginPublisherAccountById')).to.have.length(0);
  });

  it('failure 8: "subject not found" names the configured name, never the username', async () => {
    const unnamed = await rejection(client().latest('someone else'));
    expect(unnamed).to.include({ code: 'NOT_FOUND' });
    expect(unnamed.message).to.not.include(US.username);
    const named = await rejection(rig.client({ name: 'Anna' }).latest('someone else'));
    expect(named.message).to.include('"Anna"').and.not.include(US.username);
  });
});
