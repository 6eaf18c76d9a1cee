import { expect } from 'chai';
import sinon from 'sinon';
import { HttpTransport } from '../../../src/http/transport';
import type { CgmError } from '../../../src/model/errors';
import { makeReading, type GlucoseReading } from '../../../src/model/reading';
import { entryIdentifier } from '../../../src/providers/nightscout/identifier';
import {
  NightscoutUploader,
  type NightscoutUploaderOptions,
  type UploadPosition,
} from '../../../src/providers/nightscout/uploader';
import {
  MemoryLogger,
  readToken,
  rejection,
  startNightscout,
  uploadToken,
  type NightscoutRig,
} from './helpers';

const MINUTE = 60_000;
const FAST = { baseDelayMs: 10, maxDelayMs: 50 };

/** A Dexcom-like reading every five minutes, as a source would hand them over. */
function dexcomReading(time: number, mgdl = 100 + ((time / (5 * MINUTE)) % 50)): GlucoseReading {
  return makeReading({
    provider: 'dexcom',
    subject: 'Sam',
    time: new Date(time),
    mgdl: Math.round(mgdl),
    trend: 'flat',
  });
}

function grid(from: number, count: number, step = 5 * MINUTE): number[] {
  return Array.from({ length: count }, (_, i) => from + i * step);
}

describe('Nightscout uploader (against a simulated site)', function () {
  this.timeout(60_000);
  let rig: NightscoutRig;
  const made: NightscoutUploader[] = [];

  function uploader(
    overrides: Partial<NightscoutUploaderOptions['destination']> = {},
    options: Omit<NightscoutUploaderOptions, 'destination'> = {},
  ): { uploader: NightscoutUploader; positions: UploadPosition[]; errors: CgmError[]; logger: MemoryLogger } {
    const logger = new MemoryLogger();
    const created = new NightscoutUploader({
      destination: { server: rig.server('relay'), token: uploadToken('relay'), ...overrides },
      logger,
      transport: new HttpTransport({ timeoutMs: 1_000, logger }),
      backoff: FAST,
      ...options,
    });
    made.push(created);
    const positions: UploadPosition[] = [];
    const errors: CgmError[] = [];
    created.onPosition((p) => positions.push(p));
    created.onError((e) => errors.push(e));
    return { uploader: created, positions, errors, logger };
  }

  before(async () => {
    rig = await startNightscout();
  });
  after(() => rig.close());
  beforeEach(() => {
    rig.nightscout.reset();
    rig.sim.clearRequests();
    rig.sim.faults.clear();
  });
  afterEach(async () => {
    for (const u of made.splice(0)) await u.close();
  });

  const now = () => Math.floor(Date.now() / (5 * MINUTE)) * 5 * MINUTE;

  it('v1: reads the site newest entry first, then posts batches, once each and in order', async () => {
    const times = grid(now() - 55 * MINUTE, 12);
    const { uploader: up, positions } = uploader();
    up.enqueue(times.map((t) => dexcomReading(t)));
    await up.flush();
    const [newest] = rig.sim.requests('/api/v1/entries.json');
    expect(newest?.query).to.include({ count: '1', 'find[type]': 'sgv' });
    const uploads = rig.nightscout.uploads('relay');
    expect(uploads.map((u) => u.date)).to.deep.equal(times);
    expect(uploads.every((u) => u.outcome === 'created' && u.api === 'v1')).to.equal(true);
    expect(rig.sim.requests().filter((r) => r.method === 'POST')).to.have.length(1);
    const stored = rig.nightscout.stored('relay');
    expect(stored[0]).to.include({ type: 'sgv', device: 'glucobridge-dexcom', direction: 'Flat', trend: 4 });
    expect(stored[0]?.dateString).to.equal(new Date(times[0]!).toISOString());
    expect(positions.at(-1)).to.deep.equal({ site: up.siteKey, time: times.at(-1) });
    expect(up.stats()).to.deep.include({ queued: 0, sent: 12, dropped: 0, rejected: 0, stopped: false });
  });

  it('v3: one document each with the identifier the server derives; a JWT from the token', async () => {
    const times = grid(now() - 25 * MINUTE, 6);
    const { uploader: up, positions } = uploader({ api: 'v3' });
    up.enqueue(times.map((t) => dexcomReading(t)));
    await up.flush();
    const uploads = rig.nightscout.uploads('relay');
    expect(uploads.map((u) => u.date)).to.deep.equal(times);
    expect(uploads.map((u) => u.identifier)).to.deep.equal(
      times.map((t) => entryIdentifier('glucobridge-dexcom', t)),
    );
    expect(uploads.every((u) => u.outcome === 'created' && u.api === 'v3')).to.equal(true);
    expect(rig.sim.requests('/api/v2/authorization/request/')).to.have.length(1);
    expect(rig.sim.requests('/api/v3/entries').filter((r) => r.method === 'GET')[0]?.query).to.include({
      limit: '1',
      sort$desc: 'date',
    });
    expect(rig.nightscout.stored('relay')[0]).to.include({
      app: 'glucobridge',
      device: 'glucobridge-dexcom',
    });
    // Every accepted document moves the position.
    expect(positions.map((p) => p.time)).to.deep.equal(times);
  });

  it('never sends what the stored position or the site already has', async () => {
    const times = grid(now() - 55 * MINUTE, 12);
    const first = uploader();
    first.uploader.enqueue(times.slice(0, 6).map((t) => dexcomReading(t)));
    await first.uploader.flush();
    const stored = first.positions.at(-1)!.time;
    await first.uploader.close();

    // A restart with the stored position: the source's backfill hands everything over again.
    const second = uploader({}, { position: stored });
    second.uploader.enqueue(times.map((t) => dexcomReading(t)));
    await second.uploader.flush();
    expect(rig.nightscout.uploads('relay').map((u) => u.date)).to.deep.equal(times);

    // State lost: the site's newest entry keeps it from sending anything twice.
    const third = uploader({ api: 'v3' });
    third.uploader.enqueue(times.map((t) => dexcomReading(t)));
    await third.uploader.flush();
    expect(rig.nightscout.uploads('relay').map((u) => u.date)).to.deep.equal(times);
    expect(third.uploader.position).to.equal(times.at(-1));
    expect(third.positions).to.deep.equal([{ site: third.uploader.siteKey, time: times.at(-1) }]);
    expect(rig.nightscout.uploads('relay').filter((u) => u.outcome !== 'created')).to.have.length(0);
  });

  it('puts readings handed over out of order back in order, one per instant', async () => {
    const times = grid(now() - 25 * MINUTE, 6);
    const { uploader: up } = uploader();
    const shuffled = [times[3]!, times[0]!, times[5]!, times[1]!, times[3]!, times[2]!, times[4]!];
    up.enqueue(shuffled.map((t) => dexcomReading(t)));
    expect(up.queueLength).to.equal(6);
    await up.flush();
    expect(rig.nightscout.uploads('relay').map((u) => u.date)).to.deep.equal(times);
  });

  it('does not queue impossible readings (one PROTOCOL line each)', async () => {
    const { uploader: up, logger } = uploader();
    up.enqueue([
      dexcomReading(now()),
      { ...dexcomReading(now()), time: new Date(0) },
      { ...dexcomReading(now() - MINUTE), mgdl: 1e308 },
    ]);
    expect(up.queueLength).to.equal(1);
    expect(up.stats().rejected).to.equal(2);
    expect(logger.lines.filter((l) => /PROTOCOL/.test(l))).to.have.length(2);
    await up.flush();
    expect(rig.nightscout.uploads('relay').map((u) => u.date)).to.deep.equal([now()]);
  });

  it('keeps a bounded queue while the site is down: the oldest go, counted, the rest arrive in order', async () => {
    rig.sim.faults.add({ kind: 'status', status: 503, provider: 'nightscout', times: Infinity });
    const { uploader: up, errors, logger } = uploader({ queueLimit: 10 });
    const times = grid(now() - 24 * 5 * MINUTE, 25);
    for (const t of times) up.enqueue(dexcomReading(t));
    expect(up.queueLength).to.equal(10);
    expect(up.dropped).to.equal(15);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(errors.length).to.be.at.least(2);
    expect(errors.every((e) => e.code === 'SERVER')).to.equal(true);
    expect(rig.nightscout.uploads('relay')).to.have.length(0);
    rig.sim.faults.clear();
    await up.flush();
    expect(rig.nightscout.uploads('relay').map((u) => u.date)).to.deep.equal(times.slice(15));
    expect(up.stats()).to.deep.include({ dropped: 15, sent: 10, queued: 0, problem: undefined });
    expect(logger.lines.filter((l) => /queue is full/.test(l))).to.have.length(1);
    expect(logger.lines.some((l) => /15 readings were dropped/.test(l))).to.equal(true);
  });

  it('a refused token stops it after one request: AUTH_INVALID, never retried', async () => {
    const wrong = 'uploader-0000000000000000';
    const { uploader: up, errors, logger } = uploader({ token: wrong });
    up.enqueue(dexcomReading(now()));
    await up.flush();
    await new Promise((resolve) => setTimeout(resolve, 100));
    up.enqueue(dexcomReading(now() + 5 * MINUTE));
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(rig.sim.requests()).to.have.length(1);
    expect(errors.map((e) => e.code)).to.deep.equal(['AUTH_INVALID']);
    expect(up.stats()).to.deep.include({ stopped: true, queued: 2 });
    expect(up.stats().problem?.code).to.equal('AUTH_INVALID');
    expect(logger.lines.join('\n')).not.to.contain(wrong);
  });

  it('a token that may only read: v1 401 names the create permission; v3 403 is CONFIG', async () => {
    const v1 = uploader({ token: readToken('relay') });
    v1.uploader.enqueue(dexcomReading(now()));
    await v1.uploader.flush();
    expect(v1.errors.map((e) => e.code)).to.deep.equal(['AUTH_INVALID']);
    expect(v1.errors[0]?.hint).to.match(/api:entries:create/);
    const v3 = uploader({ token: readToken('relay'), api: 'v3' });
    v3.uploader.enqueue(dexcomReading(now()));
    await v3.uploader.flush();
    expect(v3.errors.map((e) => e.code)).to.deep.equal(['CONFIG']);
    expect(v3.errors[0]?.hint).to.match(/api:entries:create/);
    expect(rig.nightscout.uploads('relay')).to.have.length(0);
  });

  it('refuses a destination without a server (CONFIG)', async () => {
    const error = await rejection(
      Promise.resolve().then(() => new NightscoutUploader({ destination: { server: 'not a url' } })),
    );
    expect(error.code).to.equal('CONFIG');
  });

  it('enqueue() returns at once and close() stops at once while the site hangs', async () => {
    rig.sim.faults.add({ kind: 'timeout', provider: 'nightscout', times: Infinity });
    const { uploader: up } = uploader({}, { transport: new HttpTransport({ timeoutMs: 400 }) });
    const started = process.hrtime.bigint();
    for (const t of grid(now() - 55 * MINUTE, 12)) up.enqueue(dexcomReading(t));
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.below(50);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(up.busy).to.equal(true);
    const closing = process.hrtime.bigint();
    await up.close();
    await up.flush();
    expect(Number(process.hrtime.bigint() - closing) / 1e6).to.be.below(50);
    rig.sim.faults.clear();
    up.enqueue(dexcomReading(now()));
    // The abandoned request ends by its own timeout; nothing follows it.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(rig.sim.requests()).to.have.length(1);
    expect(up.queueLength).to.equal(12);
  });

  describe('a 30-minute outage on fake time', () => {
    const START = Date.UTC(2026, 10, 22, 8, 0, 10);
    let clock: sinon.SinonFakeTimers & { setTimeoutReal: typeof setTimeout };
    let current: NightscoutUploader | undefined;

    async function settle(ms = 5): Promise<void> {
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => clock.setTimeoutReal(resolve, ms));
    }

    /**
     * Fake time moves second by second; while a request is under way it stands still (unless the
     * site is known to hang: then time moves on so that the client's own timeout fires).
     */
    async function advance(ms: number, each: (now: number) => void, hanging = false): Promise<void> {
      const until = Date.now() + ms;
      do {
        await clock.tickAsync(Math.min(1_000, Math.max(0, until - Date.now())));
        each(Date.now());
        if (hanging) await settle();
        else for (let waited = 0; current?.busy && waited < 400; waited += 5) await settle();
      } while (Date.now() < until);
    }

    beforeEach(() => {
      const realSetTimeout = setTimeout;
      clock = Object.assign(
        sinon.useFakeTimers({ now: START, toFake: ['Date', 'setTimeout', 'clearTimeout'] }),
        {
          setTimeoutReal: realSetTimeout,
        },
      );
    });
    afterEach(() => clock.restore());

    for (const api of ['v1', 'v3'] as const) {
      it(`${api}: nothing lost, nothing twice, in order; enqueue never waits (503, then hangs)`, async () => {
        const {
          uploader: up,
          positions,
          errors,
        } = uploader(
          { api },
          {
            transport: new HttpTransport({ timeoutMs: 10_000 }),
            backoff: { baseDelayMs: 5_000, maxDelayMs: 5 * MINUTE },
          },
        );
        current = up;
        const handed: number[] = [];
        // The source hands over each reading when it is due (a Dexcom reading every five minutes).
        const handOver = (at: number) => {
          const due = Math.floor(at / (5 * MINUTE)) * 5 * MINUTE;
          if (handed.at(-1) === due) return;
          handed.push(due);
          up.enqueue(dexcomReading(due));
        };
        handOver(Date.now());
        await advance(12 * MINUTE, handOver);
        expect(rig.nightscout.uploads('relay').map((u) => u.date)).to.deep.equal(handed);

        // 30 minutes down: 503s for 15 minutes, then requests that hang.
        rig.sim.faults.add({
          kind: 'status',
          status: 503,
          provider: 'nightscout',
          path: '/relay/',
          times: Infinity,
        });
        await advance(15 * MINUTE, handOver);
        rig.sim.faults.clear();
        rig.sim.faults.add({ kind: 'timeout', provider: 'nightscout', path: '/relay/', times: Infinity });
        await advance(15 * MINUTE, handOver, true);
        expect(up.queueLength).to.be.at.least(5);
        expect(errors.length).to.be.at.least(3);
        expect(new Set(errors.map((e) => e.code))).to.deep.equal(new Set(['SERVER', 'TIMEOUT']));
        const during = rig.nightscout.uploads('relay').length;

        rig.sim.faults.clear();
        await advance(15 * MINUTE, handOver);
        const uploads = rig.nightscout.uploads('relay');
        expect(during).to.be.below(handed.length - 5);
        expect(uploads.map((u) => u.date)).to.deep.equal(handed);
        expect(uploads.every((u) => u.outcome === 'created')).to.equal(true);
        expect(handed.length).to.equal(12);
        expect(up.stats()).to.deep.include({ queued: 0, dropped: 0, sent: handed.length });
        const times = positions.map((p) => p.time);
        expect(times).to.deep.equal([...times].sort((a, b) => a - b));
        expect(times.at(-1)).to.equal(handed.at(-1));
        current = undefined;
      });
    }
  });
});
