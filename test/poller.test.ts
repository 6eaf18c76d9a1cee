import { expect } from 'chai';
import sinon from 'sinon';
import { HttpTransport } from '../src/http/transport';
import type { CgmError } from '../src/model/errors';
import type { GlucoseReading } from '../src/model/reading';
import { Poller, type StaleInfo } from '../src/poller';
import { MIN_GAP_MS, RETRY_STEP_MS } from '../src/schedule';
import { DexcomClient } from '../src/providers/dexcom/client';
import { DEXCOM_DEMO_ACCOUNTS, DexcomSimulator } from '../src/simulator/dexcom';
import { Simulator } from '../src/simulator/server';
import { tracePoint } from '../src/simulator/trace';

const MINUTE = 60_000;
const ACCOUNT = DEXCOM_DEMO_ACCOUNTS[0]!;
// A quarter past a five-minute mark: a reading is stored, the next is due in under five minutes.
const START = Date.UTC(2026, 10, 22, 8, 1, 15);

/** Lets real socket I/O run while the fake clock stands still. */
async function settle(ms = 40): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => clock.setTimeoutReal(resolve, ms));
}

let poller: Poller | undefined;
let clock: sinon.SinonFakeTimers & { setTimeoutReal: typeof setTimeout };

/**
 * Advances fake time second by second; while a poll is under way the clock stands still and real
 * time passes, so the HTTP exchange finishes (a request the simulator holds lets the clock move on,
 * so the client's own timeout can fire).
 */
async function advance(ms: number): Promise<void> {
  const until = Date.now() + ms;
  do {
    await clock.tickAsync(Math.min(1_000, Math.max(0, until - Date.now())));
    for (let waited = 0; poller?.busy && waited < 300; waited += 5) await settle(5);
  } while (Date.now() < until);
}

describe('Poller (through the Dexcom client and simulator)', function () {
  this.timeout(60_000);
  let sim: Simulator;
  let readings: GlucoseReading[];

  function makePoller(password = ACCOUNT.password, staleMinutes = 15): Poller {
    const client = new DexcomClient(
      {
        provider: 'dexcom',
        region: ACCOUNT.region,
        server: `${sim.url}/dexcom/${ACCOUNT.region}`,
        username: ACCOUNT.username,
        password,
        takeOverReceiver: false,
      },
      {
        transport: new HttpTransport({ timeoutMs: 5_000 }),
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      },
    );
    const created = new Poller(client, { staleMinutes, jitterMs: 0 });
    created.on('reading', (r) => readings.push(r));
    return created;
  }

  beforeEach(async () => {
    const realSetTimeout = setTimeout;
    clock = Object.assign(
      sinon.useFakeTimers({ now: START, toFake: ['Date', 'setTimeout', 'clearTimeout'] }),
      {
        setTimeoutReal: realSetTimeout,
      },
    );
    sim = new Simulator({ providers: [new DexcomSimulator()] });
    await sim.listen();
    readings = [];
  });

  afterEach(async () => {
    await poller?.stop();
    poller = undefined;
    clock.restore();
    await sim.close();
  });

  const gridTimes = (from: number, to: number) => {
    const out: number[] = [];
    for (let t = Math.ceil(from / (5 * MINUTE)) * 5 * MINUTE; t <= to; t += 5 * MINUTE) out.push(t);
    return out;
  };

  it('emits the latest reading at start, then each new one once, soon after it appears', async () => {
    poller = makePoller();
    const shownAt = new Map<number, number>();
    poller.on('reading', (r) => shownAt.set(r.time.getTime(), Date.now()));
    poller.start();
    await advance(1);
    expect(readings.map((r) => r.time.getTime())).to.deep.equal([Date.UTC(2026, 10, 22, 8, 0)]);
    const expected = tracePoint(ACCOUNT.accountId, Date.UTC(2026, 10, 22, 8, 0), ACCOUNT.profile ?? 'steady');
    expect(readings[0]?.mgdl).to.equal(expected.mgdl);

    await advance(30 * MINUTE);
    const times = readings.map((r) => r.time.getTime());
    expect(times).to.deep.equal(gridTimes(Date.UTC(2026, 10, 22, 8, 0), Date.UTC(2026, 10, 22, 8, 30)));
    // One login, and one or two reads per five minutes: the schedule follows the readings, not a fast beat.
    expect(sim.requests('LoginPublisherAccountById')).to.have.length(1);
    const reads = sim.requests('ReadPublisherLatestGlucoseValues');
    expect(reads.length).to.be.within(7, 13);
    const gaps = reads.slice(1).map((r, i) => r.at - reads[i]!.at);
    expect(Math.min(...gaps)).to.be.at.least(MIN_GAP_MS);
    // Each new reading (the simulator shows it 20 s after its instant) within one retry step of appearing.
    for (const time of times.slice(1))
      expect(shownAt.get(time)! - (time + 20_000)).to.be.within(0, RETRY_STEP_MS);
  });

  it('learns when readings appear: after a while one request per reading, each shown within seconds', async () => {
    poller = makePoller();
    const shownAt = new Map<number, number>();
    poller.on('reading', (r) => shownAt.set(r.time.getTime(), Date.now()));
    poller.start();
    await advance(2 * 60 * MINUTE);
    const from = Date.now();
    sim.clearRequests();
    await advance(60 * MINUTE);
    const reads = sim.requests('ReadPublisherLatestGlucoseValues');
    const shown = [...shownAt].filter(([time]) => time + 20_000 >= from);
    expect(shown).to.have.length(12);
    expect(reads.length).to.be.within(12, 14);
    for (const [time, at] of shown) expect(at - (time + 20_000)).to.be.within(0, 5_000);
  });

  it('fills an outage from history, in order, each reading once', async () => {
    poller = makePoller();
    const errors: CgmError[] = [];
    poller.on('error', (e) => errors.push(e));
    poller.start();
    await advance(MINUTE);
    sim.faults.add({ kind: 'status', status: 503, provider: 'dexcom', times: Infinity });
    await advance(40 * MINUTE);
    expect(errors.length).to.be.greaterThan(0);
    expect(errors.every((e) => e.code === 'SERVER')).to.equal(true);
    sim.faults.clear();
    await advance(20 * MINUTE);
    const times = readings.map((r) => r.time.getTime());
    expect(new Set(times).size).to.equal(times.length);
    expect(times).to.deep.equal([...times].sort((a, b) => a - b));
    expect(times).to.deep.equal(gridTimes(Date.UTC(2026, 10, 22, 8, 0), times.at(-1)!));
    expect(times.at(-1)).to.be.at.least(Date.UTC(2026, 10, 22, 8, 55));
  });

  it('reports stale data once after staleMinutes, and fresh when readings return', async () => {
    poller = makePoller(ACCOUNT.password, 15);
    const stale: StaleInfo[] = [];
    const fresh: GlucoseReading[] = [];
    poller.on('stale', (info) => stale.push(info));
    poller.on('fresh', (r) => fresh.push(r));
    poller.on('error', () => undefined);
    poller.start();
    await advance(MINUTE);
    sim.faults.add({ kind: 'timeout', provider: 'dexcom', times: Infinity });
    // The last reading is from 08:00: at 08:14:15 it is not yet 15 minutes old, at 08:16:15 it is.
    await advance(12 * MINUTE);
    expect(stale).to.have.length(0);
    await advance(2 * MINUTE);
    expect(stale).to.have.length(1);
    expect(stale[0]?.ageMs).to.be.greaterThan(15 * MINUTE);
    expect(poller.stale).to.equal(true);
    sim.faults.clear();
    await advance(20 * MINUTE);
    expect(fresh.length).to.equal(1);
    expect(poller.stale).to.equal(false);
  });

  it('stops after a rejected password: one login attempt, however long it runs', async () => {
    poller = makePoller('wrong-password-1');
    const halted: CgmError[] = [];
    poller.on('halted', (e) => halted.push(e));
    poller.on('error', () => undefined);
    poller.start();
    await advance(3 * 60 * MINUTE);
    expect(halted.map((e) => e.code)).to.deep.equal(['AUTH_INVALID']);
    expect(poller.halted).to.equal(true);
    const logins = sim.requests('/General/');
    expect(logins).to.have.length(1);
    expect(readings).to.have.length(0);
  });

  it('never throws for an error nobody listens to (a host must not crash)', async () => {
    poller = makePoller('wrong-password-2');
    poller.start();
    await advance(2 * MINUTE);
    expect(poller.lastError?.code).to.equal('AUTH_INVALID');
  });

  /** A Dexcom answer with one extra record stamped `aheadMs` after now, newest first as Dexcom sends them. */
  function withFutureRecord(aheadMs: number, wt?: string) {
    return {
      kind: 'rewrite' as const,
      provider: 'dexcom' as const,
      path: 'ReadPublisherLatestGlucoseValues',
      rewrite: (response: { status: number; body?: unknown }) => {
        const time = Date.now() + aheadMs;
        const record = {
          WT: wt ?? `Date(${time})`,
          ST: `Date(${time})`,
          DT: `Date(${time}+0000)`,
          Value: 250,
          Trend: 'Flat',
        };
        return { ...response, body: [record, ...(response.body as unknown[])] };
      },
    };
  }

  it('skips a reading stamped an hour ahead: the real ones still come, and stale still fires', async () => {
    poller = makePoller(ACCOUNT.password, 15);
    const stale: StaleInfo[] = [];
    poller.on('stale', (info) => stale.push(info));
    poller.on('error', () => undefined);
    sim.faults.add(withFutureRecord(60 * MINUTE));
    poller.start();
    await advance(30 * MINUTE);
    const times = readings.map((r) => r.time.getTime());
    expect(readings.every((r) => r.mgdl !== 250 || r.time.getTime() <= Date.now())).to.equal(true);
    expect(times).to.deep.equal(gridTimes(Date.UTC(2026, 10, 22, 8, 0), times.at(-1)!));
    expect(times.at(-1)).to.be.at.least(Date.UTC(2026, 10, 22, 8, 25));
    sim.faults.add({ kind: 'status', status: 503, provider: 'dexcom', times: Infinity });
    await advance(20 * MINUTE);
    expect(stale).to.have.length(1);
  });

  it('never polls faster than its schedule, whatever timestamps the cloud sends (an Invalid Date, year 5138)', async () => {
    poller = makePoller();
    poller.on('error', () => undefined);
    sim.faults.add({ ...withFutureRecord(0, 'Date(8640000000000001)'), times: 3 });
    sim.faults.add({ ...withFutureRecord(0, 'Date(99999999999999)'), times: 3 });
    poller.start();
    await advance(30 * MINUTE);
    const reads = sim.requests('ReadPublisherLatestGlucoseValues');
    expect(reads.length).to.be.within(6, 12);
    expect(readings.at(-1)!.time.getTime()).to.be.at.least(Date.UTC(2026, 10, 22, 8, 25));
  });

  it('follows the cloud again when its newest reading stays behind the one shown', async () => {
    poller = makePoller();
    // One answer carries a reading 4 minutes ahead (within tolerance): it is shown, then the cloud never has it.
    sim.faults.add(withFutureRecord(4 * MINUTE));
    poller.start();
    await advance(1);
    const ahead = readings.at(-1)!.time.getTime();
    expect(ahead).to.be.greaterThan(Date.now());
    await advance(40 * MINUTE);
    const after = readings.filter((r) => r.time.getTime() !== ahead).map((r) => r.time.getTime());
    expect(after.length).to.be.greaterThan(3);
    expect(poller.last!.time.getTime()).to.be.greaterThan(Date.now() - 6 * MINUTE);
    expect(poller.last!.time.getTime()).to.not.equal(ahead);
  });

  it('shows the latest value when the backfill fails, and fills the gap later', async () => {
    poller = makePoller();
    const backfilled: GlucoseReading[][] = [];
    poller.on('backfill', (r) => backfilled.push(r));
    poller.on('error', () => undefined);
    poller.start();
    await advance(MINUTE);
    sim.faults.add({ kind: 'status', status: 503, provider: 'dexcom', times: Infinity });
    await advance(30 * MINUTE);
    sim.faults.clear();
    // The history read (more than one record) fails with 429 for a while; the latest read goes through.
    const historyDown = {
      kind: 'rewrite' as const,
      provider: 'dexcom' as const,
      path: 'ReadPublisherLatestGlucoseValues',
      times: 2,
      rewrite: (response: { status: number; body?: unknown }) =>
        (response.body as unknown[]).length > 1
          ? { status: 429, headers: { 'Retry-After': '1' }, body: { message: 'Too Many Requests' } }
          : response,
    };
    sim.faults.clear();
    sim.faults.add(historyDown);
    // The outage backoff is 2–2.5 min with jitter: within 3 min the poller has asked again.
    await advance(3 * MINUTE);
    const latestShown = readings.at(-1)!.time.getTime();
    expect(latestShown).to.be.at.least(Date.UTC(2026, 10, 22, 8, 30));
    await advance(10 * MINUTE);
    const filled = backfilled.flat().map((r) => r.time.getTime());
    expect(filled.length).to.be.greaterThan(3);
    expect(Math.min(...filled)).to.be.lessThan(Date.UTC(2026, 10, 22, 8, 15));
    expect(Math.max(...filled)).to.be.lessThan(latestShown);
  });
});
