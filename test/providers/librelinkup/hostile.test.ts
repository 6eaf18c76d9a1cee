// Issue 17 against the LibreLinkUp client: impossible readings refused where they enter (latest, graph,
// logbook), one login POST per attempt, an expired ticket ignored, a client closed while a request hangs.
import { expect } from 'chai';
import type { LibreLinkUpConfig } from '../../../src/config';
import { HttpTransport } from '../../../src/http/transport';
import { CgmError } from '../../../src/model/errors';
import type { LibreLinkUpOptions } from '../../../src/providers/librelinkup/client';
import { LoginPolicy } from '../../../src/providers/login-policy';
import { LIBRE_DEMO_ACCOUNTS, LibreLinkUpSimulator } from '../../../src/simulator/librelinkup';
import {
  connectionRecord,
  formatLibreTimestamp,
  graphData,
} from '../../../src/simulator/librelinkup-records';
import { Simulator } from '../../../src/simulator/server';
import { failure, makeClient, makeConfig } from './helpers';

type Json = Record<string, unknown>;
const FAMILY = LIBRE_DEMO_ACCOUNTS.find((a) => a.email.startsWith('family@'))!;
const MIA = FAMILY.patients[0]!;
const MINUTE = 60_000;
const CONNECTIONS = /\/llu\/connections$/;

describe('LibreLinkUp client: hostile answers (issue 17)', () => {
  let sim: Simulator;
  let server: string;

  beforeEach(async () => {
    sim = new Simulator({ providers: [new LibreLinkUpSimulator()] });
    await sim.listen();
    server = `${sim.urlFor('librelinkup')}/{region}`;
  });
  afterEach(async () => {
    await sim.close();
  });

  function client(fields: Partial<LibreLinkUpConfig> = {}, options: LibreLinkUpOptions = {}) {
    return makeClient(makeConfig({ server, ...fields }), options);
  }
  const answer = (path: string | RegExp, body: unknown, status = 200) =>
    sim.faults.add({ kind: 'answer', provider: 'librelinkup', path, response: { status, body } });
  const record = (ms: number, mgdl: number, extra: Json = {}): Json => ({
    FactoryTimestamp: formatLibreTimestamp(ms),
    Timestamp: formatLibreTimestamp(ms),
    type: 0,
    ValueInMgPerDl: mgdl,
    MeasurementColor: 1,
    GlucoseUnits: 1,
    Value: mgdl,
    isHigh: false,
    isLow: false,
    ...extra,
  });
  const connectionsWith = (current: Json): Json => ({
    status: 0,
    data: [{ ...connectionRecord(MIA, FAMILY, Date.now()), glucoseMeasurement: current }],
  });
  const protocolLines = (lines: string[]) => lines.filter((l) => l.startsWith('warn PROTOCOL'));

  it('failure 2: a latest value of 0.4 mg/dL or in 2100 is refused with one PROTOCOL line; the next good one counts', async () => {
    const { client: c, logger } = client();
    await c.login();
    const now = Math.floor(Date.now() / 1000) * 1000;
    const cases: [Json, string][] = [
      [record(now - MINUTE, 0.4), 'ValueInMgPerDl'],
      [record(Date.UTC(2100, 0, 1), 120), 'FactoryTimestamp'],
      [record(now - MINUTE, 120, { FactoryTimestamp: '13/45/2026 1:00:00 PM' }), 'FactoryTimestamp'],
    ];
    for (const [current, field] of cases) {
      logger.lines.length = 0;
      answer(CONNECTIONS, connectionsWith(current));
      expect(await c.latest()).to.equal(null);
      expect(protocolLines(logger.lines)).to.have.length(1);
      expect(protocolLines(logger.lines)[0]).to.include(`refused: ${field} `);
    }
    const good = await c.latest();
    expect(good?.subject).to.equal(MIA.patientId);
    expect(Date.now() - good!.time.getTime()).to.be.within(0, 2 * MINUTE);
  });

  it('failure 2: a graph point of 1e308 is dropped; the rest of the graph still counts', async () => {
    const { client: c, logger } = client();
    await c.login();
    const now = Date.now();
    const graph = graphData(MIA, FAMILY, now) as { graphData: Json[] };
    const points = graph.graphData.length;
    graph.graphData[3] = { ...graph.graphData[3], ValueInMgPerDl: '__HUGE__' };
    const body = JSON.stringify({ status: 0, data: graph }).replace('"__HUGE__"', '1e308');
    answer('/graph', body);
    const history = await c.history({ minutes: 720 });
    // All points but the broken one, plus the current value.
    expect(history.length).to.be.within(points - 1, points);
    expect(history.every((r) => r.mgdl >= 39 && r.mgdl <= 401)).to.equal(true);
    expect(protocolLines(logger.lines)).to.have.length(1);
    expect(protocolLines(logger.lines)[0]).to.include('record 3 refused: ValueInMgPerDl');
  });

  it('a logbook entry in 2100, negative or impossible is dropped; the others still count', async () => {
    const { client: c, logger } = client();
    await c.login();
    const now = Math.floor(Date.now() / 1000) * 1000;
    const entries = [6, 5, 4, 3, 2, 1].map((h) =>
      record(now - h * 3_600_000, 60 + h, { type: 3, alarmType: 1 }),
    );
    const broken = [
      { ...entries[0], FactoryTimestamp: formatLibreTimestamp(Date.UTC(2100, 0, 1)) },
      { ...entries[1], ValueInMgPerDl: -5 },
      { ...entries[2], ValueInMgPerDl: 5000, isHigh: true },
      ...entries.slice(3),
    ];
    answer('/logbook', { status: 0, data: broken });
    const book = await c.logbook();
    expect(book).to.have.length(entries.length - 3);
    expect(protocolLines(logger.lines)).to.have.length(3);
  });

  it('maps the sensor LO/HI flags to 39/401 with their limit', async () => {
    const { client: c } = client();
    await c.login();
    const now = Date.now();
    answer(CONNECTIONS, connectionsWith(record(now - MINUTE, 30, { isLow: true })));
    expect(await c.latest()).to.deep.include({ mgdl: 39, limit: 'low' });
    answer(CONNECTIONS, connectionsWith(record(now - MINUTE, 520, { isHigh: true })));
    expect(await c.latest()).to.deep.include({ mgdl: 401, limit: 'high' });
    answer(CONNECTIONS, connectionsWith(record(now - MINUTE, 450)));
    expect(await c.latest()).to.deep.include({ mgdl: 401, limit: 'high' });
  });

  it('failure 7: a login answered by a plain HTTP 500 sends the password once per attempt', async () => {
    // The login policy spaces the attempts out; its clock jumps past each wait here.
    const clock = { now: Date.now() };
    const { client: c } = client({}, { loginGate: new LoginPolicy({ now: () => clock.now }) });
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      clock.now += 2 * 60 * 60_000;
      answer('/llu/auth/login', 'Internal Server Error', 500);
      expect((await failure(c.login())).code).to.equal('SERVER');
      expect(sim.requests('/llu/auth/login'), `attempt ${attempt}`).to.have.length(attempt);
    }
  });

  it('failure 7: an already expired ticket in a data answer is ignored: no password login because of it', async () => {
    const { client: c } = client();
    let stored = 0;
    c.onSession(() => (stored += 1));
    await c.login();
    const loginsBefore = sim.requests('/llu/auth/login').length;
    const storedBefore = stored;
    for (let poll = 0; poll < 5; poll += 1) {
      answer(CONNECTIONS, {
        ...connectionsWith(record(Date.now() - MINUTE, 120)),
        ticket: { token: `expired-${poll}`, expires: Math.floor(Date.now() / 1000) - 3600, duration: 1 },
      });
      expect(await c.latest()).to.deep.include({ mgdl: 120 });
    }
    expect(sim.requests('/llu/auth/login')).to.have.length(loginsBefore);
    expect(stored).to.equal(storedBefore);
    // The token in use is still the good one: the simulator accepts it.
    expect(await c.latest()).to.not.equal(null);
    const last = sim.requests(CONNECTIONS.source.replace(/\\|\$/g, '')).at(-1)!;
    expect(String(last.headers.authorization)).to.not.include('expired-');
  });

  it('failure 3: an answer far too big is refused as PROTOCOL while it arrives', async () => {
    const { client: c } = client({}, { transport: new HttpTransport({ timeoutMs: 5_000 }) });
    await c.login();
    answer(CONNECTIONS, `{"status":0,"data":[${'{"id":"x","patientId":"y"},'.repeat(200_000)}{}]}`);
    const error = await failure(c.latest());
    expect(error).to.be.instanceOf(CgmError).and.include({ code: 'PROTOCOL' });
    expect(error.message).to.match(/larger than \d+ bytes/);
  });

  it('failure 4: close() while a request hangs settles it at once; later calls reject with a CgmError', async () => {
    const { client: c } = client({}, { transport: new HttpTransport({ timeoutMs: 60_000 }) });
    await c.login();
    sim.faults.add({ kind: 'timeout', provider: 'librelinkup', path: '/graph' });
    const reading = c.history({ minutes: 60 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const started = Date.now();
    await c.close();
    const error = await failure(reading);
    expect(Date.now() - started).to.be.below(500);
    expect(error).to.be.instanceOf(CgmError).and.include({ code: 'CONFIG' });
    expect(await failure(c.latest())).to.be.instanceOf(CgmError);
  });
});
